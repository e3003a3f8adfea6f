// Command demo-server serves the demo targets of
// config/samples/monitoring_v1alpha1_healthcheck_demo.yaml on loopback: a small
// imitation of the httpbin endpoints the seed's examples check. `make run` starts
// the same server by itself; this command is for running the operator elsewhere.
package main

import (
	"flag"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/healthcheck-operator/healthcheck-operator/internal/demo"
)

func main() {
	var addr string
	flag.StringVar(&addr, "addr", demo.DefaultAddr, "The loopback address to serve on, such as 127.0.0.1:18080.")
	opts := zap.Options{Development: true}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("demo-server")

	ctx := ctrl.SetupSignalHandler()
	l, err := demo.Listen(ctx, addr)
	if err != nil {
		log.Error(err, "Unable to start the demo server")
		os.Exit(1)
	}
	log.Info("Serving the demo targets", "url", "http://"+l.Addr().String()+"/")
	if err := demo.Serve(ctx, l, demo.NewHandler(nil)); err != nil {
		log.Error(err, "The demo server stopped with an error")
		os.Exit(1)
	}
}
