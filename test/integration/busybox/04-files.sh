# Files: mkdir, touch, cp, mv, rm, rmdir, ln, readlink, find, ls, stat,
# chmod, test, md5sum/sha1sum/sha256sum, dd, cmp, truncate, date.
umask 022
mkdir -p a/b/c; touch a/b/c/file1 a/file2; echo content > a/b/file3
find a | sort; find a -type d | sort; find a -type f -name 'file*' | sort
find . -name '*.c' | sort; find src -type f -exec cat {} + | sort
cp a/b/file3 copy.txt; cp -r a acopy; find acopy | sort
mv copy.txt moved.txt; ls; ls -1 a; ls -a a
mv acopy a/; find a -type f | sort
rm a/file2; rm -r a/acopy; rm -f nonexistent; find a | sort
rmdir a/b/c 2>/dev/null; echo "rmdir non-empty: $?"; rm a/b/c/file1; rmdir a/b/c; echo "rmdir empty: $?"
ln -s moved.txt link.txt; readlink link.txt; cat link.txt; ln moved.txt hard.txt
stat -c '%n %s %a %h %F' moved.txt hard.txt link.txt; stat -L -c '%n %F' link.txt
chmod 600 moved.txt; stat -c '%a' moved.txt; chmod u+x,g+r moved.txt; stat -c '%a' moved.txt
[ -x moved.txt ] && echo executable; [ -L link.txt ] && echo symlink; [ -d a ] && echo directory
[ -s moved.txt ] && echo non-empty; [ -e nothing ] || echo absent
ls -l moved.txt | cut -c1-10
md5sum fruits.txt words.txt bin.dat; sha256sum table.csv bin.dat; sha1sum numbers.txt
cat bin.dat | md5sum; md5sum fruits.txt > sums.md5; md5sum -c sums.md5
dd if=bin.dat of=part.dat bs=100 count=5 skip=2 2>/dev/null; wc -c part.dat; md5sum part.dat
cmp bin.dat bin.dat && echo identical; cmp bin.dat part.dat >/dev/null; echo "cmp differs: $?"
truncate -s 10 part.dat && wc -c part.dat
touch -d '2020-01-02 03:04:05' dated.txt; date -u -r dated.txt '+%Y-%m-%d %H:%M:%S'
date -u -d @86400 '+%Y-%m-%d'; realpath moved.txt | sed 's|.*/||'
du -s src >/dev/null && echo "du works"
