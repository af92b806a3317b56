# Archives and compression: tar, gzip, gunzip, zcat, bzip2, bunzip2.
mkdir -p pkg/docs; cp fruits.txt words.txt bin.dat pkg/; cp table.csv pkg/docs/
tar cf pkg.tar pkg; tar tf pkg.tar | sort
gzip -c pkg.tar > pkg.tar.gz; gzip -t pkg.tar.gz && echo "gzip -t ok"
mkdir out; cd out; tar xzf ../pkg.tar.gz; find . -type f | sort | xargs md5sum; cd ..
gzip -9 fruits.txt; ls fruits.txt*; zcat fruits.txt.gz | head -n 2; gunzip fruits.txt.gz; md5sum fruits.txt
echo "compress me compress me compress me" | gzip | gunzip
bzip2 -c words.txt | bunzip2 | md5sum
tar czf - pkg | tar tzf - | sort | head -n 3
seq 1 20000 | gzip -1 | gunzip | awk '{ s += $1 } END { print s }'
