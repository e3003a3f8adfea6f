package testenv

import (
	"context"
	"net"
)

// FreeLoopbackPorts returns n distinct ports that nothing listens on, on
// 127.0.0.1, right now: each is held until all are found, then let go for
// the caller to listen on.
func FreeLoopbackPorts(n int) ([]int, error) {
	var lc net.ListenConfig
	ports := make([]int, 0, n)
	for range n {
		l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer func() { _ = l.Close() }()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
