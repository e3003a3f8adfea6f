package checker

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/grpclog"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// gRPC limits. A health answer is a few bytes; these keep a hostile server
// from making a check buffer more than a few tens of KiB.
const (
	maxGRPCMessageBytes = 4 << 10
	// grpcWindowBytes is the HTTP/2 flow-control window, fixed so that grpc's
	// dynamic windows (up to MiBs) never grow for a probe.
	grpcWindowBytes = 64 << 10
)

func init() {
	// grpc-go logs through one process-wide logger, and some of what it logs
	// comes from the server: a GOAWAY's debug data, for one. A probed server
	// must never get its bytes into the operator's logs, and the checker is
	// the only gRPC client here, so grpc's logging is switched off. This has to
	// happen at init: grpclog.SetLoggerV2 must not race with gRPC calls.
	grpclog.SetLoggerV2(grpclog.NewLoggerV2(io.Discard, io.Discard, io.Discard))
}

// checkGRPC asks e for the health of e.service with grpc.health.v1.Health/Check,
// over TLS when secure, on a connection of its own that is closed when the
// check ends.
//
// The target is "passthrough:///host:port", so grpc resolves nothing itself:
// the checker's dialer resolves the host and applies the outbound policy to
// every address, as for http, and dials e.plan's address and port if it has
// them, while the :authority and TLS server name stay the URL's. Retries and
// service configs are off, so one check is one connection attempt and one
// RPC, under the check's deadline.
func (c *Checker) checkGRPC(ctx, reqCtx context.Context, t Target, e endpoint, secure bool, res *Result) {
	trace := &grpcTrace{}
	creds := insecure.NewCredentials()
	if secure {
		tr, err := c.transports.get(t)
		if err != nil {
			res.Reason, res.Message = ReasonNetworkError, msgInvalidRequest+": "+err.Error()
			return
		}
		// https's configuration, and so its ALPN offer, h2 first: a gRPC
		// server picks h2, and a server that picks http/1.1 instead is then
		// known not to be one (requireHTTP2) rather than failing the
		// handshake. grpc sets the server name to the host.
		cfg := tr.config.Clone()
		cfg.VerifyConnection = requireHTTP2
		creds = credentials.NewTLS(cfg)
	}
	cc, err := grpc.NewClient("passthrough:///"+e.addr,
		grpc.WithContextDialer(c.grpcDialer(reqCtx, e.plan, trace)),
		grpc.WithTransportCredentials(&tracedCreds{TransportCredentials: creds, trace: trace}),
		grpc.WithStatsHandler(tracedStats{trace}),
		grpc.WithUserAgent(DefaultUserAgent),
		grpc.WithDisableServiceConfig(),
		grpc.WithDisableRetry(),
		grpc.WithMaxHeaderListSize(maxResponseHeaderBytes),
		grpc.WithStaticStreamWindowSize(grpcWindowBytes),
		grpc.WithStaticConnWindowSize(grpcWindowBytes),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxGRPCMessageBytes)),
	)
	if err != nil {
		res.Reason, res.Message = ReasonNetworkError, msgInvalidRequest+": malformed URL"
		return
	}
	defer func() { _ = cc.Close() }()

	answer, err := healthpb.NewHealthClient(cc).Check(reqCtx, &healthpb.HealthCheckRequest{Service: e.service})
	res.Latency = c.clock.Since(res.CheckedAt)
	tlsState := trace.tlsState()
	if tlsState != nil {
		res.CertificateExpiresAt = &tlsState.NotAfter
	}
	if err != nil {
		res.Reason, res.Message, res.Seen = grpcFailure(ctx, reqCtx, err, trace, t, res.Latency)
		return
	}
	res.Seen = answer.GetStatus().String()
	if answer.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		res.Reason = ReasonNotServing
		res.Message = answerMessage("answered "+res.Seen, res.Latency, res.Reason, t)
		return
	}
	var response *Response
	if t.Assertions != nil {
		response = &Response{TLS: tlsState, GRPC: &GRPCState{Status: res.Seen}}
	}
	concludeAnswer(reqCtx, t, res, res.Seen, response)
}

// grpcFailure classifies a health RPC that returned an error into a reason, a
// fixed message and what the check saw.
//
// grpc reports every failure below it as Unavailable, with the cause only in
// its error text, so when no gRPC answer arrived the cause comes from the
// check's trace: the dial's error (refused, DNS, blocked), the handshake's
// (TLS), a server that is not HTTP/2, or the connection's end. Then the check's
// own deadline or cancellation wins, whatever code grpc or the server (which
// is told the deadline) gave the call. What remains is the server's answer.
func grpcFailure(parent, reqCtx context.Context, err error, trace *grpcTrace, t Target, latency time.Duration) (Reason, string, string) {
	answered := trace.grpcAnswered()
	if !answered {
		switch cause := trace.cause(); {
		case errors.Is(cause, errNotGRPC):
			return ReasonNetworkError, msgNotGRPC, ""
		case cause != nil:
			reason, message := failure(parent, reqCtx, cause, t, latency)
			return reason, message, ""
		}
	}
	switch {
	case parent.Err() != nil:
		reason, message := failure(parent, reqCtx, parent.Err(), t, latency)
		return reason, message, ""
	case reqCtx.Err() != nil || deadlinePassed(reqCtx):
		// The server's end of the call may time out, and say so, a moment
		// before reqCtx notices: it is the same deadline.
		return ReasonTimeout, failureMessage(ReasonTimeout, t.Timeout), ""
	}
	code := status.Code(err)
	switch {
	case !answered && (code == codes.Unknown || code == codes.Unimplemented):
		// An HTTP/2 server, but not a gRPC one: grpc made the code up from the
		// HTTP status (200 is Unknown, 404 Unimplemented).
		return ReasonNetworkError, msgNotGRPC, ""
	case code == codes.DeadlineExceeded:
		// A deadline of the server's own, e.g. on a call it made, ran out.
		return ReasonTimeout, "timed out after " + FormatDuration(latency), ""
	case code == codes.NotFound:
		// The protocol's answer to Check for a service the server does not
		// know; Watch calls it SERVICE_UNKNOWN.
		const seen = "SERVICE_UNKNOWN"
		return ReasonNotServing, answerMessage("answered "+seen, latency, ReasonNotServing, t), seen
	case code == codes.Unimplemented:
		return ReasonUnexpectedStatus, truncateMessage(answerMessage("answered Unimplemented", latency, ReasonUnexpectedStatus, t) +
			": the server has no gRPC health service"), ""
	}
	return ReasonUnexpectedStatus, answerMessage("answered "+code.String(), latency, ReasonUnexpectedStatus, t), ""
}

// deadlinePassed tells whether ctx's deadline has passed, even if ctx has not
// noticed yet.
func deadlinePassed(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}
