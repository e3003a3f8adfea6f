// Package testservers starts the real servers on loopback that tests check:
// TCP listeners, gRPC health services, and the certificates that TLS and
// mutual TLS need. It imports nothing of the project, so every package's
// tests, the checker's own included, can use it.
package testservers

import (
	"context"
	"net"
	"strconv"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Listen accepts connections on a fresh loopback port until the test ends,
// hands each to serve (nil closes it at once) and closes it after, and returns
// the port's address.
func Listen(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	l := listen(t)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = conn.Close() }()
				if serve != nil {
					serve(conn)
				}
			}()
		}
	}()
	return l.Addr().String()
}

// ClosedPort is a loopback address where nothing listens: connecting to it is
// refused. The port stays bound, without listening, until the test ends, so no
// other listener of a test running alongside can be given it meanwhile (a port
// merely freed again could be, and then accept).
func ClosedPort(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}

// GRPCHealth serves grpc-go's own health service (grpc.health.v1) on loopback
// until the test ends, over TLS when creds is set, and returns its address and
// the service, whose statuses the test switches.
func GRPCHealth(t testing.TB, creds credentials.TransportCredentials) (string, *health.Server) {
	t.Helper()
	l := listen(t)
	var opts []grpc.ServerOption
	if creds != nil {
		opts = append(opts, grpc.Creds(creds))
	}
	srv := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().String(), hs
}

// listen opens a listener on a free loopback port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}
