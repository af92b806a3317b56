# ip tuntap, ip addr and ip link on a tun device, in a fresh network namespace: run by tun.test.js natively and in the sandbox.
ip tuntap add dev tt0 mode tun || echo "tuntap add failed"
ip addr add 10.7.0.1/24 dev tt0 || echo "addr add failed"
ip addr add fd07::1/64 dev tt0 || echo "addr6 add failed"
ip link set tt0 up || echo "link up failed"
ip link set tt0 mtu 1400 txqueuelen 100 || echo "mtu failed"
ip link set tt0 mtu 40 2>/dev/null || echo "small mtu refused"
ip -o link show tt0 | sed 's/\\.*//'
ip -o -4 addr show dev tt0
ip route add 10.20.0.0/16 dev tt0 || echo "route add failed"
ip route add 10.20.0.0/16 dev tt0 2>/dev/null || echo "route add again refused"
ip -4 route show
ip route del 10.20.0.0/16 dev tt0 || echo "route del failed"
ip route del 10.20.0.0/16 dev tt0 2>/dev/null || echo "route del again refused"
ip addr add 10.7.1.1/24 dev tt0 || echo "addr add 2 failed"
ip addr del 10.7.0.1/24 dev tt0 || echo "addr del failed"
ip addr del 10.7.0.1/24 dev tt0 2>/dev/null || echo "addr del again refused"
ip -o -4 addr show dev tt0
ip -4 route show
ip link set tt0 down
ip -4 route show
ip tuntap del dev tt0 mode tun || echo "tuntap del failed"
ip -o link show tt0 2>&1
echo end
