# Redirections, pipes, subshells, here-documents, read loops, command
# substitution, file descriptors.
echo first > out.txt; echo second >> out.txt; cat < out.txt
{ echo to-stdout; echo to-stderr >&2; } 2>err.txt; echo "stderr file: $(cat err.txt)"
ls /nonexistent-dir-for-busybox-test 2>/dev/null; echo "ls status $?"
( echo in-subshell; exit 4 ); echo "subshell exit $?"
x=outer; ( x=inner; echo "subshell sees $x" ); echo "parent keeps $x"
cd src && pwd | sed 's|.*/||' && cd ..
echo "piped" | tr a-z A-Z | sed 's/P/p/' | cat -n
seq 1 5 | while read n; do echo "line $n"; done | tail -n 2
name=World
cat <<EOF2
Hello, $name!
  indented $((1 + 1))
EOF2
cat <<'EOF2'
no $expansion `here`
EOF2
cat <<-EOF2
	tab-stripped here-doc
	EOF2
exec 3>fd3.txt; echo "via fd 3" >&3; exec 3>&-; cat fd3.txt
exec 4<words.txt; read -r first <&4; exec 4<&-; echo "first line via fd 4: $first"
while read -r line; do echo "read: $line"; done < words.txt
echo a b c | { read x y z; echo "z=$z y=$y x=$x"; }
result=$(echo nested $(echo command $(echo substitution))); echo "$result"
echo "backticks: `echo works`"
cat fruits.txt | head -n 3 | tee tee.txt | wc -l; cat tee.txt
echo "no newline" | tr -d '\n' > nonl.txt; wc -c < nonl.txt
cat nonexistent 2>&1 >/dev/null | sed 's/^cat: //'
