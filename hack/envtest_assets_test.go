package hack_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The stubs stand in for setup-envtest and for the source build, so that these
// tests take the decisions of hack/envtest-assets.sh in seconds.
const (
	// Each setup-envtest stub records its arguments.
	stubHeader = "#!/bin/sh\necho \"$@\" > \"$STUB_LOG/setup-envtest-args\"\n"
	// setupEnvtestOK mimics `setup-envtest use -p path --bin-dir DIR VERSION`:
	// a read-only version directory of old binaries, whose path it prints.
	setupEnvtestOK = stubHeader + `dir="$5/k8s/1.37.2-linux-amd64"
mkdir -p "$dir"
for b in etcd kube-apiserver kubectl; do echo downloaded > "$dir/$b"; done
chmod 0555 "$dir"/* && touch -t 200001010000 "$dir"/* && chmod 0555 "$dir"
printf %s "$dir"
`
	setupEnvtestNoKubectl = stubHeader + `dir="$5/k8s/1.37.2-linux-amd64"
mkdir -p "$dir"
for b in etcd kube-apiserver; do echo downloaded > "$dir/$b"; done
printf %s "$dir"
`
	setupEnvtestOffline = stubHeader + `echo "unable to fetch hash for requested version: dial tcp: lookup example.invalid: no such host" >&2
exit 2
`
	setupEnvtestHangs = stubHeader + `exec sleep 30
`
	buildOK = `#!/bin/sh
touch "$STUB_LOG/built"
for b in etcd kube-apiserver kubectl; do echo built > "$1/$b"; done
`
	buildFails = `#!/bin/sh
touch "$STUB_LOG/built"
echo "compile error" >&2
exit 1
`
)

func TestEnvtestAssets(t *testing.T) {
	tests := []struct {
		name         string
		setupEnvtest string // the stub's script; empty: not installed
		build        string
		env          []string
		noTimeout    bool // hide timeout(1), as on macOS
		wantErr      bool
		wantOutput   string
		wantContent  string // of each binary in DIR
		wantDownload bool   // whether setup-envtest ran
		wantBuild    bool   // whether the source build ran
	}{
		{
			name:         "download answers",
			setupEnvtest: setupEnvtestOK,
			build:        buildOK,
			wantOutput:   ">> Using envtest binaries downloaded by setup-envtest (Kubernetes 1.37.x) in ",
			wantContent:  "downloaded",
			wantDownload: true,
		},
		{
			name:         "download fails",
			setupEnvtest: setupEnvtestOffline,
			build:        buildOK,
			wantOutput:   ">> setup-envtest could not download Kubernetes 1.37.x (unable to fetch hash for requested version: dial tcp: lookup example.invalid: no such host); building from source",
			wantContent:  "built",
			wantDownload: true,
			wantBuild:    true,
		},
		{
			name:         "download hangs past the timeout",
			setupEnvtest: setupEnvtestHangs,
			build:        buildOK,
			env:          []string{"ENVTEST_DOWNLOAD_TIMEOUT=1"},
			wantOutput:   ">> setup-envtest could not download Kubernetes 1.37.x (no answer within 1s); building from source",
			wantContent:  "built",
			wantDownload: true,
			wantBuild:    true,
		},
		{
			name:         "download hangs, no timeout(1)",
			setupEnvtest: setupEnvtestHangs,
			build:        buildOK,
			env:          []string{"ENVTEST_DOWNLOAD_TIMEOUT=1"},
			noTimeout:    true,
			wantOutput:   ">> setup-envtest could not download Kubernetes 1.37.x (no answer within 1s); building from source",
			wantContent:  "built",
			wantDownload: true,
			wantBuild:    true,
		},
		{
			name:         "download lacks a binary",
			setupEnvtest: setupEnvtestNoKubectl,
			build:        buildOK,
			wantOutput:   ">> setup-envtest could not download Kubernetes 1.37.x (the download has no kubectl); building from source",
			wantContent:  "built",
			wantDownload: true,
			wantBuild:    true,
		},
		{
			name:        "setup-envtest not installed",
			build:       buildOK,
			wantOutput:  ">> setup-envtest is not installed; building from source",
			wantContent: "built",
			wantBuild:   true,
		},
		{
			name:         "source build forced",
			setupEnvtest: setupEnvtestOK,
			build:        buildOK,
			env:          []string{"ENVTEST_FROM_SOURCE=1"},
			wantOutput:   ">> ENVTEST_FROM_SOURCE=1; building from source",
			wantContent:  "built",
			wantBuild:    true,
		},
		{
			name:         "source build fails",
			setupEnvtest: setupEnvtestOffline,
			build:        buildFails,
			wantErr:      true,
			wantOutput:   "; building from source",
			wantDownload: true,
			wantBuild:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stubs, log, bin := t.TempDir(), t.TempDir(), t.TempDir()
			setupEnvtest := filepath.Join(stubs, "setup-envtest")
			if tt.setupEnvtest != "" {
				writeScript(t, setupEnvtest, tt.setupEnvtest)
			}
			build := filepath.Join(stubs, "build")
			writeScript(t, build, tt.build)
			dest := filepath.Join(bin, "k8s")

			start := time.Now().Add(-time.Second) // file times may be rounded down
			cmd := exec.CommandContext(t.Context(), "./envtest-assets.sh", dest)
			cmd.Env = append(scriptEnv(),
				"STUB_LOG="+log,
				"SETUP_ENVTEST="+setupEnvtest,
				"ENVTEST_BUILD="+build,
				"ENVTEST_K8S_VERSION=1.37.x",
			)
			cmd.Env = append(cmd.Env, tt.env...)
			if tt.noTimeout {
				cmd.Env = append(cmd.Env, "PATH="+pathWithout(t, "timeout"))
			}
			out, err := cmd.CombinedOutput()
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("took %v, want seconds", elapsed)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v; output:\n%s", err, tt.wantErr, out)
			}
			if !strings.Contains(string(out), tt.wantOutput) {
				t.Errorf("output lacks %q:\n%s", tt.wantOutput, out)
			}
			if args, err := os.ReadFile(filepath.Join(log, "setup-envtest-args")); (err == nil) != tt.wantDownload {
				t.Errorf("setup-envtest ran: %v, want %v", err == nil, tt.wantDownload)
			} else if err == nil {
				// A scratch store next to DIR, and the pinned version.
				prefix := "use -p path --bin-dir " + dest + ".setup-envtest."
				if got := string(args); !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, " 1.37.x\n") {
					t.Errorf("setup-envtest args = %q, want %q...1.37.x", got, prefix)
				}
			}
			if got := exists(filepath.Join(log, "built")); got != tt.wantBuild {
				t.Errorf("source build ran: %v, want %v", got, tt.wantBuild)
			}
			if tt.wantErr {
				return
			}
			for _, b := range []string{"etcd", "kube-apiserver", "kubectl"} {
				path := filepath.Join(dest, b)
				content, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.TrimSpace(string(content)); got != tt.wantContent {
					t.Errorf("%s holds %q, want %q", b, got, tt.wantContent)
				}
				info, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				// Newer than hack/envtest/go.mod, so that make sees them up to date;
				// writable, so that a later build can replace them.
				if info.ModTime().Before(start) {
					t.Errorf("%s modified %v, want after %v", b, info.ModTime(), start)
				}
				if info.Mode().Perm()&0o200 == 0 {
					t.Errorf("%s mode %v, want writable by its owner", b, info.Mode())
				}
			}
			// The scratch store is gone.
			entries, err := os.ReadDir(bin)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("%s holds %d entries, want only k8s: %v", bin, len(entries), entries)
			}
		})
	}
}

func writeScript(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

// pathWithout returns a PATH of one directory with links to the tools the
// script and the stubs use, except omit.
func pathWithout(t *testing.T, omit string) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"bash", "sh", "env", "dirname", "mkdir", "mktemp", "chmod", "rm", "mv", "touch", "tail", "sleep", "kill"} {
		if tool == omit {
			continue
		}
		path, err := exec.LookPath(tool)
		if err != nil {
			continue // a shell builtin here, such as kill
		}
		if err := os.Symlink(path, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// scriptEnv is the test's environment less the variables the script reads, so
// that a developer's ENVTEST_FROM_SOURCE=1 does not change what the tests see.
func scriptEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENVTEST_") && !strings.HasPrefix(kv, "SETUP_ENVTEST=") {
			env = append(env, kv)
		}
	}
	return env
}
