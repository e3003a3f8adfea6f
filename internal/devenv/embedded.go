package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sync/errgroup"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/healthcheck-operator/healthcheck-operator/internal/demo"
	"github.com/healthcheck-operator/healthcheck-operator/internal/operator"
)

// loopback is the only host the embedded mode listens on.
const loopback = "127.0.0.1"

// runEmbedded starts the embedded environment, runs the operator in it until ctx
// ends, then stops all it started, in reverse order. Steps:
//
//  1. lock and reset the state directory (stopping an earlier run's leftovers);
//  2. start etcd and kube-apiserver, which install the CRDs;
//  3. write the kubeconfig and the state file;
//  4. open the demo server's port and apply the demo HealthCheck;
//  5. serve the demo targets and run the operator, until ctx ends or either fails.
func runEmbedded(ctx context.Context, opts Options) (err error) {
	log := ctrl.LoggerFrom(ctx)
	dir, err := openStateDir(opts.StateDir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, dir.close()) }()
	if err := dir.reset(ctx); err != nil {
		return err
	}

	env, state, err := startControlPlane(ctx, opts, dir)
	if err != nil {
		return err
	}
	defer func() {
		log.Info("Stopping etcd and kube-apiserver")
		if stopErr := env.Stop(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the control plane: %w", stopErr))
		}
	}()
	if ctx.Err() != nil {
		return nil // told to stop while starting
	}
	if err := dir.writeFile(KubeconfigFile, env.KubeConfig); err != nil {
		return err
	}

	demoListener, err := listenDemo(ctx, opts.DemoAddr)
	if err != nil {
		return err
	}
	defer func() { _ = demoListener.Close() }() // in case the server never ran
	state.Demo = demoListener.Addr().String()
	if err := dir.writeState(state); err != nil {
		return err
	}

	scheme, err := operator.NewScheme()
	if err != nil {
		return err
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("creating a client of the embedded API server: %w", err)
	}
	sample, err := loadDemoSample(opts.DemoSample, state.Demo)
	if err != nil {
		return err
	}
	if err := applyDemoSample(ctx, c, sample); err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return demo.Serve(gctx, demoListener, demo.NewHandler(nil)) })
	g.Go(func() error { return runOperator(gctx, env.Config, opts.Operator) })
	g.Go(func() error {
		reportFirstRound(gctx, c, client.ObjectKeyFromObject(sample), opts.Out)
		return nil
	})
	printEmbeddedBanner(opts, dir.join(KubeconfigFile), state.Demo)
	return g.Wait()
}

// startControlPlane starts etcd and kube-apiserver from AssetsDir on loopback,
// with their data, certificates and logs in the state directory, and installs
// the CRDs. It returns the addresses and processes for the state file.
func startControlPlane(ctx context.Context, opts Options, dir *stateDir) (*envtest.Environment, State, error) {
	state := State{PID: os.Getpid()}
	etcdPath, apiServerPath := filepath.Join(opts.AssetsDir, "etcd"), filepath.Join(opts.AssetsDir, "kube-apiserver")
	for _, bin := range []string{etcdPath, apiServerPath} {
		if _, err := os.Stat(bin); err != nil {
			return nil, state, fmt.Errorf("finding the control plane: %w (run `make envtest` to build it)", err)
		}
	}
	apiPort, etcdPort, peerPort := opts.APIServerPort, opts.EtcdPort, opts.EtcdPeerPort
	if err := pickLoopbackPorts(ctx, &apiPort, &etcdPort, &peerPort); err != nil {
		return nil, state, err
	}
	state.APIServer = net.JoinHostPort(loopback, strconv.Itoa(apiPort))
	state.Etcd = net.JoinHostPort(loopback, strconv.Itoa(etcdPort))
	state.EtcdPeer = net.JoinHostPort(loopback, strconv.Itoa(peerPort))

	etcdOut, err := os.Create(dir.join(etcdLog))
	if err != nil {
		return nil, state, fmt.Errorf("creating etcd's log: %w", err)
	}
	defer func() { _ = etcdOut.Close() }() // the child holds its own copy
	apiOut, err := os.Create(dir.join(apiLog))
	if err != nil {
		return nil, state, fmt.Errorf("creating kube-apiserver's log: %w", err)
	}
	defer func() { _ = apiOut.Close() }()

	etcd := &envtest.Etcd{
		Path:    etcdPath,
		URL:     &url.URL{Scheme: "http", Host: state.Etcd},
		DataDir: dir.join(etcdDataDir),
		Out:     etcdOut,
		Err:     etcdOut,
	}
	etcd.Configure().Set("listen-peer-urls", "http://"+state.EtcdPeer)
	env := &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			Etcd: etcd,
			APIServer: &envtest.APIServer{
				Path:          apiServerPath,
				SecureServing: envtest.SecureServing{ListenAddr: envtest.ListenAddr{Address: loopback, Port: strconv.Itoa(apiPort)}},
				CertDir:       dir.join(certsDir),
				Out:           apiOut,
				Err:           apiOut,
			},
		},
		CRDDirectoryPaths:     []string{opts.CRDDir},
		ErrorIfCRDPathMissing: true,
		UseExistingCluster:    ptr.To(false),
	}

	ctrl.LoggerFrom(ctx).Info("Starting etcd and kube-apiserver on loopback", "apiServer", "https://"+state.APIServer,
		"logs", dir.join("*.log"))
	if _, err := env.Start(); err != nil {
		_ = env.Stop()
		return nil, state, fmt.Errorf("starting the embedded control plane (logs in %s): %w", dir.path, err)
	}
	state.Processes = childProcesses(state.PID)
	return env, state, nil
}

// pickLoopbackPorts checks that each non-zero port is free on 127.0.0.1 and
// replaces each zero with a free one. All are held open until all are chosen,
// so no two zeros become the same port.
func pickLoopbackPorts(ctx context.Context, ports ...*int) error {
	var lc net.ListenConfig
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for _, port := range ports {
		l, err := lc.Listen(ctx, "tcp", net.JoinHostPort(loopback, strconv.Itoa(*port)))
		if err != nil {
			return fmt.Errorf("reserving a port for the control plane: %w", err)
		}
		held = append(held, l)
		*port = l.Addr().(*net.TCPAddr).Port
	}
	return nil
}

// listenDemo opens the demo server's port. When addr is taken, say by another
// program, it takes a free port on the same host instead: the demo HealthCheck
// is pointed at whichever port it got.
func listenDemo(ctx context.Context, addr string) (net.Listener, error) {
	l, err := demo.Listen(ctx, addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(addr) // demo.Listen parsed it already
		ctrl.LoggerFrom(ctx).Info("The demo address is taken, using a free port instead", "taken", addr)
		l, err = demo.Listen(ctx, net.JoinHostPort(host, "0"))
	}
	return l, err
}
