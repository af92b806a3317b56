# Servers and clients inside one sandbox, over its own loopback.
set -e
cd /tmp
echo hello-from-the-sandbox > index.txt
/usr/bin/python3 -m http.server 8123 --bind 127.0.0.1 > /tmp/srv4.log 2>&1 &
p4=$!
/usr/bin/python3 -m http.server 8124 --bind ::1 > /tmp/srv6.log 2>&1 &
p6=$!
for i in $(seq 1 50); do curl -sf http://127.0.0.1:8123/index.txt >/dev/null 2>&1 && break; sleep 0.2; done
for i in $(seq 1 50); do curl -sf 'http://[::1]:8124/index.txt' >/dev/null 2>&1 && break; sleep 0.2; done
echo "curl v4: $(curl -s http://127.0.0.1:8123/index.txt)"
echo "curl v6: $(curl -s 'http://[::1]:8124/index.txt')"
echo "curl 404: $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8123/missing)"
echo "urllib: $(/usr/bin/python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8123/index.txt").read().decode().strip())')"
kill $p4 $p6
wait $p4 $p6 2>/dev/null || true
node -e '
const http = require("http");
const srv = http.createServer((req, res) => { let body = ""; req.on("data", (d) => (body += d)); req.on("end", () => res.end("node got " + req.method + " " + body.length)); });
srv.listen(0, "127.0.0.1", async () => {
  const port = srv.address().port;
  const big = "x".repeat(300000);
  for (const [m, b] of [["GET", ""], ["POST", big]]) {
    const r = await new Promise((ok, bad) => { const q = http.request({ port, host: "127.0.0.1", method: m }, (res) => { let s = ""; res.on("data", (d) => (s += d)); res.on("end", () => ok(s)); }); q.on("error", bad); q.end(b); });
    console.log("node http:", r);
  }
  srv.close();
});
'
echo "curl refused: $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:1/ || true)"
