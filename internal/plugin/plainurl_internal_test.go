package plugin

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	monitoringv1alpha1 "github.com/healthcheck-operator/healthcheck-operator/api/v1alpha1"
	"github.com/healthcheck-operator/healthcheck-operator/internal/crdschema"
)

// trickyURLs are URLs at the edges of the CRD's url rules and of Go's URL
// parsers, for the tests that hold admittedAlone to the CRD's validation.
func trickyURLs() []string {
	long := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	urls := []string{
		"", " ", "http", "http:", "http:/", "http://", "http:///", "http:///path", "http://?q", "http://#f",
		"http://a", "http://a/", "HTTP://A/", "hTTpS://a.example:8443/x", "https://a.example:65535/", "https://a.example:65536/",
		"http://a:/", "http://a:0/", "http://a:port/", "http://a:-1/", "http://:80/", "http://a::80/",
		"http://[::1]/", "http://[::1]:8080/x", "http://[::1", "http://::1/", "http://[fe80::1%25en0]/", "http://[fe80::1%en0]/",
		"http://127.0.0.1:1/", "http://256.256.256.256/", "http://1.2.3/", "http://a_b.example/", "http://-a.example/",
		"http://a.example/%", "http://a.example/%zz", "http://a.example/%20", "http://a.example/?q=%", "http://a.example/#%zz",
		"http://a.example/a b", "http://a.example/\t", "http://a\x7f.example/", "http://ä.example/", "http://a.example/ä",
		"http://xn--4ca.example/", "http://a.example/?q=1&r=2#frag", "http://a.example#frag", "http://a.example?q",
		"http://user@a.example/", "http://user:pw@a.example/", "http://@a.example/", "http://a.example/@x", "http://a.example?@x",
		"http://a.example#@x", "http://a@b@c/", "http:// a.example/", "http://a.example:80:80/", "http://a%2eexample/",
		"http://a%20b/", "http://%41/", "http://a.example/../x", "http://a.example/./", "http://a.example//x",
		"http:a.example/", "http:/a.example/", "//a.example/", "a.example", "/healthz", "ftp://a.example/", "file:///etc/passwd",
		"httpx://a/", "http ://a/", "http://a/ ", " http://a/", "ſhttp://a/", "httpſ://a/", "http\u212a://a/",
		"tcp://db.example:5432", "TCP://db.example:5432/", "tcp://db.example:5432/x", "tcp://db.example", "tcp://db.example:",
		"tcp://db.example:5432?x", "tcp://db.example:5432#x", "tcp://[::1]:5432", "tcp://:5432", "tcp://db.example:5432/%2f",
		"tls://mail.example:465", "Tls://mail.example:465/", "tls://mail.example:465//", "tls://mail.example",
		"grpc://api.example:9090", "grpc://api.example:9090/shop.Cart", "GRPCS://api.example:9443/a/b", "grpc://api.example",
		"grpcs://api.example:/x", "grpc://api.example:9090/%zz", "udp://dns.example:53", "grpcx://a:1",
		"http://a.example/" + strings.Repeat("%", 3),
		long("http://a.example/", monitoringv1alpha1.MaxURLLength),
		long("http://a.example/", monitoringv1alpha1.MaxURLLength+1),
		long("tcp://a.example:1/", monitoringv1alpha1.MaxURLLength),
		long("grpc://a.example:1/", monitoringv1alpha1.MaxURLLength),
		long("http://a", monitoringv1alpha1.MaxURLLength) + ".example/",
		"http://" + strings.Repeat("a.", 1000) + "example/",
		"http://a.example/" + strings.Repeat("ä", 1020),
		"http://a.example/" + strings.Repeat("ä", 1030),
	}
	// Every printable ASCII character in the host, the port, the path, the
	// query and the fragment.
	for c := byte('!'); c <= '~'; c++ {
		s := string(c)
		urls = append(urls,
			"http://a"+s+"b.example/", "http://a.example:8"+s+"0/", "http://a.example/p"+s+"q", "http://a.example/?q"+s+"r",
			"http://a.example/#f"+s+"g", "tcp://a"+s+"b:1", "tls://a:1"+s, "grpc://a:1/"+s, "http://"+s+"/", "http://["+s+"]/")
	}
	return urls
}

// TestAdmittedAloneVouchesOnlyForAdmittedURLs holds the fast path to the CRD:
// whatever URL it admits, the CRD's schema and CEL admit, and a URL list is
// refused exactly as the validation refuses it, URL by URL. It also pins that
// the fast path covers the URLs lists are made of.
func TestAdmittedAloneVouchesOnlyForAdmittedURLs(t *testing.T) {
	fast := 0
	for _, u := range trickyURLs() {
		full, err := validatedURLProblems(t.Context(), []listedURL{{url: u, file: "urls.txt", line: 1}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := urlProblems(t.Context(), []listedURL{{url: u, file: "urls.txt", line: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if admittedAlone(u) {
			fast++
			if len(full) > 0 {
				t.Errorf("admittedAlone(%q), but the CRD refuses it: %q", u, full)
			}
		}
		if !slices.Equal(got, full) {
			t.Errorf("%q: urlProblems says %q, the CRD's validation %q", u, got, full)
		}
	}
	t.Logf("admittedAlone vouched for %d of %d URLs", fast, len(trickyURLs()))
	for _, u := range []string{
		"http://a.example/", "https://a.example:8443/healthz?verbose=1#top", "HTTP://127.0.0.1:8080/target/1",
		"http://[::1]:8080/", "tcp://db.example:5432", "TLS://mail.example:465/", "grpc://api.example:9090/shop.Cart",
		"grpcs://api.example:9443",
	} {
		if !admittedAlone(u) {
			t.Errorf("admittedAlone(%q) = false: plain URLs should not need the CRD's validators", u)
		}
	}
}

// FuzzAdmittedAlone: for any string, the fast path admits only what the CRD's
// schema and CEL admit, and urlProblems says what the validation says.
func FuzzAdmittedAlone(f *testing.F) {
	for _, u := range trickyURLs() {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, u string) {
		full, err := validatedURLProblems(t.Context(), []listedURL{{url: u, file: "fuzz"}})
		if err != nil {
			t.Fatal(err)
		}
		if admittedAlone(u) && len(full) > 0 {
			t.Fatalf("admittedAlone(%q), but the CRD refuses it: %q", u, full)
		}
		got, err := urlProblems(t.Context(), []listedURL{{url: u, file: "fuzz"}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, full) {
			t.Fatalf("%q: urlProblems says %q, the CRD's validation %q", u, got, full)
		}
	})
}

// BenchmarkURLProblems measures the admission of a list of plain URLs, as a
// benchmark's URL file holds them.
func BenchmarkURLProblems(b *testing.B) {
	urls := make([]listedURL, 50000)
	for i := range urls {
		urls[i] = listedURL{url: fmt.Sprintf("http://127.0.0.1:8080/target/%d", i), file: "urls.txt", line: i + 1}
	}
	for b.Loop() {
		if problems, err := urlProblems(b.Context(), urls); err != nil || len(problems) > 0 {
			b.Fatal(err, problems)
		}
	}
}

// TestPlainURLListsNeedNoValidator: a list of URLs that admittedAlone vouches
// for is admitted without building the CRD's validator (its CEL compilation
// is most of run's start-up); a list with one other URL builds it.
func TestPlainURLListsNeedNoValidator(t *testing.T) {
	built := 0
	build := healthCheckValidator
	healthCheckValidator = func() (*crdschema.Validator, error) {
		built++
		return build()
	}
	t.Cleanup(func() { healthCheckValidator = build })

	plain := []listedURL{{url: "http://a.example/", file: "--url"}, {url: "tcp://db.example:5432", file: "--url"}}
	if problems, err := urlProblems(t.Context(), plain); err != nil || len(problems) > 0 {
		t.Fatalf("urlProblems = %q, %v", problems, err)
	}
	if built != 0 {
		t.Fatalf("the validator was built for plain URLs")
	}
	mixed := append(plain, listedURL{url: "ftp://a.example/", file: "urls.txt", line: 3})
	problems, err := urlProblems(t.Context(), mixed)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`urls.txt:3: url: Invalid value: "ftp://a.example/": url must be an absolute http://, https://, tcp://, tls://, grpc:// or grpcs:// URL`}
	if !slices.Equal(problems, want) || built != 1 {
		t.Errorf("urlProblems = %q with the validator built %d times, want %q, built once", problems, built, want)
	}
}
