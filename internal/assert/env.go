package assert

import (
	"net/http"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/version"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/apiserver/pkg/cel/lazy"

	"github.com/healthcheck-operator/healthcheck-operator/internal/checker"
)

// responseVar is the one variable an assertion reads.
const responseVar = "response"

// Fields of response. body and json are the ones that need the body read.
const (
	fieldCode    = "code"
	fieldHeaders = "headers"
	fieldBody    = "body"
	fieldJSON    = "json"
	fieldLatency = "latency"
	fieldTLS     = "tls"
	fieldGRPC    = "grpc"
)

// responseType declares response as an object with fixed fields, the way
// ValidatingAdmissionPolicy declares request, so that a misspelt field such as
// response.cod fails to compile instead of failing every check.
var responseType = apiservercel.NewObjectType("healthcheck.Response", fields(
	field(fieldCode, apiservercel.IntType, true),
	field(fieldHeaders, apiservercel.NewMapType(apiservercel.StringType, apiservercel.StringType, -1), true),
	field(fieldBody, apiservercel.StringType, true),
	field(fieldJSON, apiservercel.DynType, true),
	field(fieldLatency, apiservercel.DurationType, true),
	field(fieldTLS, apiservercel.NewObjectType("healthcheck.TLS", fields(
		field("notAfter", apiservercel.TimestampType, true),
		field("version", apiservercel.StringType, true),
	)), false),
	field(fieldGRPC, apiservercel.NewObjectType("healthcheck.GRPC", fields(
		field("status", apiservercel.StringType, true),
	)), false),
))

func field(name string, declType *apiservercel.DeclType, required bool) *apiservercel.DeclField {
	return apiservercel.NewDeclField(name, declType, required, nil, nil)
}

func fields(fields ...*apiservercel.DeclField) map[string]*apiservercel.DeclField {
	m := make(map[string]*apiservercel.DeclField, len(fields))
	for _, f := range fields {
		m[f.Name] = f
	}
	return m
}

// env is Kubernetes' base CEL environment (the libraries, language settings and
// cost tracking ValidatingAdmissionPolicy uses) with the variable response.
// Building it takes milliseconds, so it is built once. Its NewExpressions flavour
// holds only what the previous Kubernetes minor also knows, so an assertion
// that compiles here keeps compiling after an operator rollback.
var env = sync.OnceValues(func() (*cel.Env, error) {
	envSet, err := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()).Extend(
		environment.VersionedOptions{
			IntroducedVersion: version.MajorMinor(1, 0),
			EnvOptions:        []cel.EnvOption{cel.Variable(responseVar, responseType.CelType())},
			DeclTypes:         []*apiservercel.DeclType{responseType},
		},
	)
	if err != nil {
		return nil, err
	}
	return envSet.NewExpressionsEnv(), nil
})

// newActivation binds response to r for one Evaluate. Its fields are computed
// on first use and then kept, so the headers map is built and the body parsed
// as JSON at most once per check, however many assertions read them, and not
// at all when none does.
func newActivation(r *checker.Response) (interpreter.Activation, error) {
	v := lazy.NewMapValue(responseType.CelType())
	v.Append(fieldCode, func(*lazy.MapValue) ref.Val { return types.Int(r.Code) })
	v.Append(fieldHeaders, func(*lazy.MapValue) ref.Val {
		return types.NewStringStringMap(types.DefaultTypeAdapter, headerMap(r.Headers))
	})
	v.Append(fieldBody, func(*lazy.MapValue) ref.Val { return types.String(validUTF8(string(r.Body))) })
	v.Append(fieldJSON, func(*lazy.MapValue) ref.Val { return parseJSON(r.Body) })
	v.Append(fieldLatency, func(*lazy.MapValue) ref.Val { return types.Duration{Duration: r.Latency} })
	// tls and grpc are absent, not empty, when the check had none, so that
	// has(response.tls) tells a TLS check from another.
	if r.TLS != nil {
		v.Append(fieldTLS, func(*lazy.MapValue) ref.Val {
			return types.NewStringInterfaceMap(types.DefaultTypeAdapter, map[string]any{
				"notAfter": r.TLS.NotAfter,
				"version":  r.TLS.Version,
			})
		})
	}
	if r.GRPC != nil {
		v.Append(fieldGRPC, func(*lazy.MapValue) ref.Val {
			return types.NewStringStringMap(types.DefaultTypeAdapter, map[string]string{"status": r.GRPC.Status})
		})
	}
	return cel.NewActivation(map[string]any{responseVar: v})
}

// headerMap lower-cases names and joins repeated headers with ", ", as HTTP
// allows for most of them.
func headerMap(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for name, values := range h {
		key := strings.ToLower(name)
		value := validUTF8(strings.Join(values, ", "))
		if prev, ok := m[key]; ok {
			value = prev + ", " + value
		}
		m[key] = value
	}
	return m
}

// parseJSON reads the body as JSON, integers as int, like Kubernetes reads
// objects; null when the body is empty or not JSON.
func parseJSON(body []byte) ref.Val {
	if len(body) == 0 {
		return types.NullValue
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return types.NullValue
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

// validUTF8 replaces invalid bytes, as a CEL string must be valid UTF-8.
func validUTF8(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}
