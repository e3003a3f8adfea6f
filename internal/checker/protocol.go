package checker

import (
	"net"
	"net/url"
	"strings"
)

// protocol is what a check speaks, chosen by the URL's scheme.
type protocol uint8

const (
	protoUnknown protocol = iota
	protoHTTP             // http and https
	protoTCP
	protoTLS
	protoGRPC
	protoGRPCS
)

// problemScheme is the "invalid request" description of an unknown scheme.
const problemScheme = "URL scheme must be http, https, tcp, tls, grpc or grpcs"

// protocolOf reads rawURL's scheme, in any case, without parsing the URL, so
// the http hot path pays nothing for the other protocols.
func protocolOf(rawURL string) protocol {
	i := strings.IndexByte(rawURL, ':')
	if i < 0 {
		return protoUnknown
	}
	switch scheme := rawURL[:i]; {
	case strings.EqualFold(scheme, "http"), strings.EqualFold(scheme, "https"):
		return protoHTTP
	case strings.EqualFold(scheme, "tcp"):
		return protoTCP
	case strings.EqualFold(scheme, "tls"):
		return protoTLS
	case strings.EqualFold(scheme, "grpc"):
		return protoGRPC
	case strings.EqualFold(scheme, "grpcs"):
		return protoGRPCS
	}
	return protoUnknown
}

// endpoint is where a tcp, tls or gRPC check connects.
type endpoint struct {
	// host is the URL's host name or address, the TLS server name.
	host string
	// addr is host:port, to dial.
	addr string
	// service is the gRPC service to ask about; "" is the whole server.
	service string
	// plan is how to dial addr: the target's family, Address and Port.
	plan dialPlan
}

// parseEndpoint validates a tcp, tls or gRPC target. On failure it returns a
// short, fixed description that never includes the URL.
func parseEndpoint(t Target, p protocol, plan dialPlan) (endpoint, string) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return endpoint{}, "malformed URL"
	}
	host, port := u.Hostname(), u.Port()
	switch {
	case host == "":
		return endpoint{}, "URL has no host"
	case port == "":
		return endpoint{}, "URL has no port"
	case len(t.Headers) > 0:
		// Silently dropping them would hide a mistake, e.g. a token that a
		// user expects to be sent.
		return endpoint{}, "headers need an http or https URL"
	case t.assertsBody():
		return endpoint{}, "body checks need an http or https URL"
	}
	plan.host = host
	e := endpoint{host: host, addr: net.JoinHostPort(host, port), plan: plan}
	switch p {
	case protoGRPC, protoGRPCS:
		e.service = strings.TrimPrefix(u.Path, "/")
	default:
		if u.Path != "" && u.Path != "/" {
			return endpoint{}, "tcp and tls URLs take no path"
		}
	}
	return e, ""
}
