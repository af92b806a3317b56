# Shell basics: variables, parameter expansion, arithmetic, quoting, case,
# functions, loops, test/[ and expr.
set -u
a=3; b=4
echo "sum=$((a + b)) product=$((a * b)) mod=$((17 % 5)) shift=$((1 << 10))"
s="hello world"
echo "${#s} ${s%world}x ${s#hello }y ${s:-unset} ${undefined:-default}"
greet() { local who="$1"; echo "hi, $who ($#)"; return 3; }
greet "a b" c; echo "greet returned $?"
fact() { if [ "$1" -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }
echo "fact 10 = $(fact 10)"
for w in alpha "beta gamma" delta; do
  case "$w" in
    a*) echo "$w starts with a" ;;
    *\ *) echo "$w has a space" ;;
    *) echo "$w is other" ;;
  esac
done
i=0
while [ $i -lt 5 ]; do
  i=$((i + 1))
  [ $i -eq 2 ] && continue
  [ $i -eq 4 ] && break
  echo "loop $i"
done
n=0; until [ $n -ge 3 ]; do n=$((n + 1)); done; echo "until n=$n"
set -- x y z; echo "positional: $# $1 $3 $*"; shift; echo "after shift: $@"
echo 'single $quoted' "double \$escaped"
printf '%s|%5d|%-4s|%x|%o|%c\n' str 42 ab 255 8 Z
printf '%.3f %e\n' 3.14159 12345.678
test -n "abc" && echo "test -n ok"
[ -z "" ] && echo "[ -z ] ok"
[ 2 -gt 10 ] || echo "2 is not > 10"
[ "abc" \< "abd" ] && echo "string compare ok"
expr 6 \* 7; expr length "hello"; expr substr "abcdef" 2 3; expr 10 / 3; expr "abc" : 'a\(.\)'
echo "$(basename /usr/lib/libfoo.so .so) $(dirname /usr/lib/libfoo.so) $(basename dir/)"
true; echo "true: $?"; false; echo "false: $?"; ! false; echo "not false: $?"
