# tar create and extract (reproducible archive bytes), gzip/gunzip, find.
set -eu
umask 022
mkdir -p src/docs src/bin src/empty
for i in $(seq 1 40); do printf 'file %d\n%s\n' "$i" "$(seq -s' ' 1 "$i")" > "src/docs/f$i.txt"; done
head -c 200000 /dev/zero | tr '\0' 'z' > src/bin/zeros
printf '#!/bin/sh\necho hi\n' > src/bin/run.sh; chmod 755 src/bin/run.sh
ln -s docs/f1.txt src/first
find src -exec touch -h -d '2020-05-06 07:08:09' {} +
tar --sort=name --owner=0 --group=0 --numeric-owner --format=gnu -cf src.tar src
tar -tvf src.tar | awk '{ print $1, $2, $3, $6 }' | head -n 8
sha256sum src.tar
gzip -n -9 -c src.tar > src.tar.gz
sha256sum src.tar.gz
gzip -l src.tar.gz | awk 'NR == 2 { print $2 }'
mkdir out
tar -xzf src.tar.gz -C out
diff -r src out/src && echo "extracted tree identical"
find out -newer src.tar -print | wc -l
find out -type f -name 'f1*.txt' | sort
find out -type f -size +100k
find out -type l -printf '%p -> %l\n'
find out -type d -empty
find out -type f -perm -u+x
find out -name '*.txt' | wc -l
gunzip -c src.tar.gz | cmp - src.tar && echo "gunzip round trip"
gzip -9 src/bin/zeros && ls src/bin && gunzip src/bin/zeros.gz && wc -c < src/bin/zeros
tar -cf - -C out src | tar -tf - | sort | head -n 5
