# bash itself: arrays, associative arrays, [[ ]], parameter expansion,
# arithmetic, functions, process substitution, here-strings, brace
# expansion, mapfile, printf -v, traps, subshells and pipelines.
set -euo pipefail
arr=(one "two three" four)
echo "${#arr[@]} ${arr[1]} ${arr[-1]} ${arr[*]:1:2}"
declare -A color=([apple]=red [banana]=yellow [cherry]=red)
for k in $(printf '%s\n' "${!color[@]}" | sort); do echo "$k=${color[$k]}"; done
s="Hello, World"
echo "${s,,} ${s^^} ${s/World/There} ${s:7} ${s//l/L} ${#s}"
[[ $s == Hello* ]] && echo "glob match"
[[ $s =~ ([A-Z])[a-z]+,\ ([A-Z]) ]] && echo "regex groups: ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
echo $(( 2 ** 20 )) $(( 0x1f )) $(( 8#17 )) $(( 7 / 2 )) $(( -7 % 3 ))
fib() { local n=$1; if (( n < 2 )); then echo "$n"; else echo $(( $(fib $((n - 1))) + $(fib $((n - 2))) )); fi; }
echo "fib 10 = $(fib 10)"
echo {a..e} {1..10..3} x{y,z}w
mapfile -t lines < <(printf 'l1\nl2\nl3\n')
echo "mapfile: ${#lines[@]} ${lines[2]}"
read -r w1 w2 <<< "here string"
echo "$w2 $w1"
printf -v padded '%05d' 42; echo "$padded"
diff <(printf 'a\nb\n') <(printf 'a\nc\n') || echo "diff status $?"
( trap 'echo "subshell exit trap"' EXIT; echo "in subshell" )
count=0; while read -r _; do count=$((count + 1)); done < <(seq 1 250); echo "count=$count"
set +e; false | true; echo "pipefail: $?"; set -e
f() { return 42; }; f || echo "f returned $?"
echo "$(bash -c 'echo nested bash $BASH_VERSINFO' | sed 's/[0-9]*$/N/')"
case "x.tar.gz" in *.tar.gz) echo "tarball" ;; *) echo "other" ;; esac
type -t echo; type -t ls; type -t fib
