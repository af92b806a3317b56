# Text applets: grep, sed, awk, sort, uniq, tr, cut, wc, head, tail, rev,
# nl, fold, paste, comm, seq, xargs, od, hexdump.
grep -n apple fruits.txt; grep -c apple fruits.txt; grep -v -e apple -e banana fruits.txt
grep -i 'the' words.txt; grep -o 'o[a-z]' words.txt; grep -E '^(fig|date)$' fruits.txt
grep -l apple fruits.txt words.txt; grep -q missing fruits.txt; echo "grep -q status $?"
grep -r "return" src | sort
sed -n '2,4p' fruits.txt; sed 's/a/A/g; s/^/> /' fruits.txt | head -n 3
sed -e '/apple/d' -e 's/e$/E/' fruits.txt; sed '1!G;h;$!d' fruits.txt
awk -F, 'NR > 1 { total += $2 * $3; n++ } END { printf "items=%d total=%.2f\n", n, total }' table.csv
awk '{ for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? " " : "\n") }' words.txt
awk 'BEGIN { n = split("c a b", arr); print "n=" n; print length("abcdef"), substr("abcdef", 2, 3), toupper("x") }'
sort fruits.txt | uniq -c; sort -u fruits.txt; sort -r fruits.txt | head -n 2
sort -n numbers.txt | tr '\n' ' '; echo; sort -rn numbers.txt | head -n 1
sort -t, -k2 -n table.csv; sort fruits.txt | uniq -d; sort fruits.txt | uniq -u
tr 'a-z' 'A-Z' < words.txt; tr -d 'aeiou' < words.txt; echo "aaabbbccc" | tr -s 'abc'
cut -d, -f1,3 table.csv; cut -c1-3 fruits.txt | head -n 4
wc -l fruits.txt; wc -w words.txt; wc -c table.csv; cat fruits.txt words.txt | wc
head -n 2 words.txt; head -c 10 fruits.txt; echo; tail -n 3 fruits.txt; tail -c 8 fruits.txt
tail -n +8 fruits.txt; rev words.txt; nl -b a words.txt; fold -w 7 words.txt
paste -d: fruits.txt numbers.txt | head -n 4; sort fruits.txt > s1; sort -r fruits.txt | diff s1 - | grep '^[-+][a-z]' | head -n 3
seq 3 3 15; seq -s, 5; seq 10 -2 1 | xargs echo; echo a b c d e | xargs -n 2 echo
od -An -c words.txt | head -n 2; echo hello | od -An -tx1; echo "hex" | hexdump -C
printf 'b\na\nc\n' | sort | tac
