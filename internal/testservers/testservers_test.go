package testservers

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
)

func TestAClosedPortRefusesConnections(t *testing.T) {
	addr := ClosedPort(t)
	conn, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", addr)
	if err == nil {
		_ = conn.Close()
		t.Fatalf("connected to %s, which must refuse", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dialing %s: %v, want connection refused", addr, err)
	}
}
