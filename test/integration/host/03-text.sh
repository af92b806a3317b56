# Text processing with the host's grep, sed, awk, sort, uniq, wc, cut, tr,
# head, tail on generated data.
set -eu
seq 1 3000 | awk '{ printf "%05d,%s,%d\n", ($1 * 7919) % 3001, ($1 % 3 ? "even" : "odd"), $1 % 17 }' > data.csv
wc -l data.csv
sort data.csv | head -n 3
sort -t, -k3,3n -k1,1 data.csv | tail -n 3
cut -d, -f2 data.csv | sort | uniq -c
cut -d, -f3 data.csv | sort -n | uniq -c | sort -k1,1nr -k2,2n | head -n 5
grep -c ',odd,' data.csv
grep -E '^0{2}[0-9]{3},' data.csv | sort | head -n 5
grep -v -e even data.csv | sed -n '10,12p'
sed -e 's/,even,/ E /' -e 's/,odd,/ O /' data.csv | sort -r | head -n 4
awk -F, '{ sum[$2] += $3; n[$2]++ } END { for (k in sum) printf "%s %d %.3f\n", k, sum[k], sum[k] / n[k] }' data.csv | sort
awk -F, 'BEGIN { max = -1 } $1 + 0 > max { max = $1 + 0; line = NR } END { print "max", max, "at line", line }' data.csv
tr ',' '\t' < data.csv | head -n 2 | cat -A
head -c 100 data.csv | tail -c 20; echo
sha256sum data.csv
sort -u -t, -k2,2 data.csv | cut -d, -f2
printf '%s\n' b a c b a | sort | uniq -d
seq 1 100000 | grep -c 7
seq 1 100000 | sed -n '$p'
