package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// HTTPMethod is the request method of a check.
// +kubebuilder:validation:Enum=GET;HEAD
type HTTPMethod string

// Methods a check can use.
const (
	// MethodGet sends a GET request; the body is read up to a small bound, then dropped.
	MethodGet HTTPMethod = "GET"
	// MethodHead sends a HEAD request.
	MethodHead HTTPMethod = "HEAD"
)

// IPFamily selects the addresses a check may use.
// +kubebuilder:validation:Enum=Any;IPv4;IPv6
type IPFamily string

// IP families.
const (
	// IPFamilyAny uses any address of the host, as the system's resolver orders them.
	IPFamilyAny IPFamily = "Any"
	// IPFamilyIPv4 uses only IPv4 addresses.
	IPFamilyIPv4 IPFamily = "IPv4"
	// IPFamilyIPv6 uses only IPv6 addresses.
	IPFamilyIPv6 IPFamily = "IPv6"
)

// HealthCheckSpec lists the URLs to check and how to judge their answers.
// +kubebuilder:validation:XValidation:rule="!has(self.timeout) || !has(self.interval) || duration(self.timeout) <= duration(self.interval)",message="timeout must not be longer than interval"
// +kubebuilder:validation:XValidation:rule="!has(self.timeout) || !has(self.slowThreshold) || duration(self.slowThreshold) < duration(self.timeout)",message="slowThreshold must be below timeout"
// +kubebuilder:validation:XValidation:rule="(has(self.targets) && size(self.targets) > 0) || (has(self.targetsFrom) && size(self.targetsFrom) > 0)",message="set targets, targetsFrom or both: there is nothing to check"
// +kubebuilder:validation:XValidation:rule="!has(self.targets) || self.targets.map(t, size(t.url)).sum() <= 131072",message="the targets' URLs together must not exceed 131072 characters, so that status stays within etcd's size limit"
// +kubebuilder:validation:XValidation:rule="!has(self.interval) || !has(self.targets) || self.targets.all(t, !has(t.timeout) || duration(t.timeout) <= duration(self.interval))",message="a target's timeout must not be longer than interval"
type HealthCheckSpec struct {
	// Targets are the URLs to check, each at most once.
	// +optional
	// +listType=map
	// +listMapKey=url
	// +kubebuilder:validation:MaxItems=500
	Targets []Target `json:"targets,omitempty"`

	// TargetsFrom discovers more targets from the Ingresses, HTTPRoutes and Services
	// of the HealthCheck's namespace, and follows them as they change. A discovered
	// URL equal to one of targets is that target. Together with targets they are at
	// most 500: past that, discovered targets are left out in a stable order and the
	// Ready condition says how many.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	TargetsFrom []TargetSource `json:"targetsFrom,omitempty"`

	// Interval is how often the targets are checked, measured from the start of one
	// round to the start of the next, such as 30s or 1m. At least 1s.
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')",message="must be a duration such as 30s, 1m or 1h30m (units h, m, s, ms)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$') || duration(self) >= duration('1s')",message="must be at least 1s"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Timeout is the deadline of each request. When unset it is 8s, or the interval
	// when that is shorter; an explicit timeout longer than the interval is rejected.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')",message="must be a duration such as 8s or 500ms (units h, m, s, ms)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$') || duration(self) > duration('0s')",message="must be greater than 0s"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SlowThreshold is the latency above which an expected answer counts as Slow.
	// When unset it is 2s. An explicit value must be below an explicit timeout.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')",message="must be a duration such as 2s or 500ms (units h, m, s, ms)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$') || duration(self) > duration('0s')",message="must be greater than 0s"
	SlowThreshold *metav1.Duration `json:"slowThreshold,omitempty"`

	// Workers is how many checks of this HealthCheck run at once.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Workers int32 `json:"workers,omitempty"`

	// FailureThreshold is how many consecutive failed checks turn a target Down.
	// Fewer failures keep its previous state.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	FailureThreshold int32 `json:"failureThreshold,omitempty"`

	// SuccessThreshold is how many consecutive good checks bring a Down target back Up.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	SuccessThreshold int32 `json:"successThreshold,omitempty"`

	// CertificateExpiryThreshold, when set, flags https, tls and grpcs targets whose certificate
	// expires within it, such as 168h: their reason becomes CertificateExpiring,
	// the Degraded condition turns True and a CertificateExpiring event is emitted.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')",message="must be a duration such as 168h or 720h (units h, m, s, ms)"
	CertificateExpiryThreshold *metav1.Duration `json:"certificateExpiryThreshold,omitempty"`

	// Notify sends each transition that emits an event to a webhook as well.
	// +optional
	Notify *NotifySpec `json:"notify,omitempty"`

	// Objective is the availability the targets should reach over a window: status
	// then shows the error budget left, and the ErrorBudgetBurning and
	// ErrorBudgetExhausted conditions say when it burns fast or is spent. Without
	// it, status.availability still shows availability over the default window.
	// +optional
	Objective *Objective `json:"objective,omitempty"`

	// Maintenance lists recurring windows during which checks still run and status
	// shows them, but transitions notify no one, events say "(in maintenance)" once
	// per target, and checks do not count towards availability. The InMaintenance
	// condition is True during a window.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	Maintenance []MaintenanceWindow `json:"maintenance,omitempty"`

	// Suspend stops all checks while true; the Ready condition then says Suspended.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// Target is one URL to check. Fields that only HTTP has (method,
// expectedStatusCodes, bodyContains, bodyMatches, headers, followRedirects) are
// rejected on tcp, tls, grpc and grpcs URLs, which must name a port.
// +kubebuilder:validation:XValidation:rule="!self.url.matches('^(?i)(tcp|tls|grpcs?)://') || !has(self.method) || self.method == 'GET'",messageExpression="'method applies only to http:// and https:// URLs, not to ' + self.url.split('://')[0].lowerAscii() + '://'",fieldPath=".method"
// +kubebuilder:validation:XValidation:rule="!self.url.matches('^(?i)(tcp|tls|grpcs?)://') || !has(self.expectedStatusCodes) || self.expectedStatusCodes == ['200-299']",messageExpression="'expectedStatusCodes applies only to http:// and https:// URLs, not to ' + self.url.split('://')[0].lowerAscii() + '://'",fieldPath=".expectedStatusCodes"
// +kubebuilder:validation:XValidation:rule="!self.url.matches('^(?i)(tcp|tls|grpcs?)://') || !has(self.bodyContains)",messageExpression="'bodyContains applies only to http:// and https:// URLs, not to ' + self.url.split('://')[0].lowerAscii() + '://'",fieldPath=".bodyContains"
// +kubebuilder:validation:XValidation:rule="!self.url.matches('^(?i)(tcp|tls|grpcs?)://') || !has(self.bodyMatches)",messageExpression="'bodyMatches applies only to http:// and https:// URLs, not to ' + self.url.split('://')[0].lowerAscii() + '://'",fieldPath=".bodyMatches"
// +kubebuilder:validation:XValidation:rule="!self.url.matches('^(?i)(tcp|tls|grpcs?)://') || !has(self.headers)",messageExpression="'headers applies only to http:// and https:// URLs, not to ' + self.url.split('://')[0].lowerAscii() + '://'",fieldPath=".headers"
// +kubebuilder:validation:XValidation:rule="!self.url.matches('^(?i)(tcp|tls|grpcs?)://') || !has(self.followRedirects) || self.followRedirects",messageExpression="'followRedirects applies only to http:// and https:// URLs, not to ' + self.url.split('://')[0].lowerAscii() + '://'",fieldPath=".followRedirects"
// +kubebuilder:validation:XValidation:rule="!self.url.matches('^(?i)(tcp|tls|grpcs?)://') || !isURL(self.url) || size(url(self.url).getPort()) > 0",messageExpression="'a ' + self.url.split('://')[0].lowerAscii() + ':// URL needs a port, such as ' + self.url.split('://')[0].lowerAscii() + '://db.example:5432'",fieldPath=".url"
// +kubebuilder:validation:XValidation:rule="!self.url.matches('^(?i)(tcp|tls)://') || !isURL(self.url) || size(url(self.url).getEscapedPath()) <= 1",messageExpression="'a ' + self.url.split('://')[0].lowerAscii() + ':// URL has no path'",fieldPath=".url"
type Target struct {
	// URL is the absolute URL to check; its scheme chooses the protocol:
	//   - http:// and https:// send an HTTP request;
	//   - tcp://HOST:PORT opens a TCP connection;
	//   - tls://HOST:PORT opens a TCP connection and completes a TLS handshake with
	//     HOST as the server name, verified like https;
	//   - grpc://HOST:PORT[/SERVICE] and grpcs://HOST:PORT[/SERVICE] call the gRPC
	//     Health Checking Protocol (grpc.health.v1.Health/Check) for SERVICE, or for
	//     the whole server without one.
	// Credentials in the URL are rejected: send them in a header whose value comes
	// from a Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^(?i)(https?|tcp|tls|grpcs?)://')",message="url must be an absolute http://, https://, tcp://, tls://, grpc:// or grpcs:// URL"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(?i)(https?|tcp|tls|grpcs?)://') || (isURL(self) && url(self).getHostname() != '')",message="url must have a host"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@')",message="url must not contain credentials (user:password@); use a header with valueFrom.secretKeyRef"
	URL string `json:"url"`

	// Name is a short display name used in events and metrics. Defaults to the URL,
	// with any query string redacted.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name,omitempty"`

	// TargetSettings say how the target is checked and judged.
	TargetSettings `json:",inline"`
}

// TargetSettings are how a target is checked and judged: everything of a
// target but its URL and name. A spec target has them inline; a source of
// spec.targetsFrom applies them, as its template, to each target it discovers.
// +kubebuilder:validation:XValidation:rule="!(has(self.method) && self.method == 'HEAD' && (has(self.bodyContains) || has(self.bodyMatches)))",message="bodyContains and bodyMatches need method GET: a HEAD answer has no body"
// +kubebuilder:validation:XValidation:rule="!has(self.timeout) || !has(self.slowThreshold) || duration(self.slowThreshold) < duration(self.timeout)",message="slowThreshold must be below timeout"
type TargetSettings struct {
	// Method is the HTTP method of the check.
	// +optional
	// +kubebuilder:default=GET
	Method HTTPMethod `json:"method,omitempty"`

	// ExpectedStatusCodes are the status codes that count as a good answer, each a
	// code such as "200" or an inclusive range such as "200-299".
	// +optional
	// +kubebuilder:default={"200-299"}
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=7
	// +kubebuilder:validation:items:Pattern=`^[1-5][0-9][0-9](-[1-5][0-9][0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self.all(c, !c.contains('-') || int(c.split('-')[0]) <= int(c.split('-')[1]))",message="a status code range must run from low to high, such as 200-299"
	ExpectedStatusCodes []string `json:"expectedStatusCodes,omitempty"`

	// Timeout overrides spec.timeout for this target.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')",message="must be a duration such as 8s or 500ms (units h, m, s, ms)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$') || duration(self) > duration('0s')",message="must be greater than 0s"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SlowThreshold overrides spec.slowThreshold for this target.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')",message="must be a duration such as 2s or 500ms (units h, m, s, ms)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$') || duration(self) > duration('0s')",message="must be greater than 0s"
	SlowThreshold *metav1.Duration `json:"slowThreshold,omitempty"`

	// BodyContains, when set, must occur in the first 1 MiB of the body for an
	// answer to count as good; otherwise the check fails with reason BodyMismatch.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	BodyContains string `json:"bodyContains,omitempty"`

	// BodyMatches, when set, is an RE2 regular expression that must match the first
	// 1 MiB of the body for an answer to count as good.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="''.matches(self) == ''.matches(self)",message="bodyMatches must be a valid RE2 regular expression"
	BodyMatches string `json:"bodyMatches,omitempty"`

	// FollowRedirects, when false, judges the first answer, such as a 301, instead
	// of following redirects (up to 10, each hop checked against the operator's
	// outbound policy). Headers are dropped when a redirect leaves the origin.
	// +optional
	// +kubebuilder:default=true
	FollowRedirects *bool `json:"followRedirects,omitempty"`

	// TLS tunes certificate verification, and the client certificate, for https,
	// tls and grpcs targets.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// Assertions are CEL expressions over the answer that must all be true for it to
	// count as good, evaluated in order after expectedStatusCodes, bodyContains and
	// bodyMatches; the first false one fails the check with reason AssertionFailed.
	// The variable response has code (int, 0 for non-HTTP checks), headers (map of
	// lower-cased names to values, repeated ones joined with ", "), body (string,
	// the first 1 MiB), json (the body parsed as JSON, null when it is not),
	// latency (duration), tls (notAfter and version, for https, tls and grpcs) and
	// grpc (status, for grpc and grpcs). The Kubernetes CEL libraries (strings,
	// lists, regex, url, quantity) are available, as in ValidatingAdmissionPolicy.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Assertions []Assertion `json:"assertions,omitempty"`

	// Headers are sent with every request of this target.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=10
	Headers []HTTPHeader `json:"headers,omitempty"`
	// IPFamily says which addresses of the URL's host a check may connect to: Any
	// (the default), IPv4 or IPv6.
	// +optional
	IPFamily IPFamily `json:"ipFamily,omitempty"`

	// FanOut checks every backend of the target on its own instead of the URL once:
	// each address of its host, or each ready endpoint of its Service. Status then
	// counts the backends by state and names the failing ones.
	// +optional
	FanOut *FanOut `json:"fanOut,omitempty"`
}

// FanOutMode says which backends of a target fanOut checks.
// +kubebuilder:validation:Enum=Addresses;Endpoints
type FanOutMode string

// Fan-out modes.
const (
	// FanOutAddresses checks every address the URL's host resolves to (of
	// ipFamily), each with the URL's Host header and TLS server name.
	FanOutAddresses FanOutMode = "Addresses"
	// FanOutEndpoints checks every ready endpoint of the Service the URL names
	// (NAME, NAME.NAMESPACE, NAME.NAMESPACE.svc or NAME.NAMESPACE.svc.cluster.local
	// in the HealthCheck's namespace, or the Service of a services source) at its
	// address and target port, with the URL's Host header; each backend is known
	// by its pod and zone.
	FanOutEndpoints FanOutMode = "Endpoints"
)

// FanOut checks each backend of a target, and judges the target by how many of
// them are healthy.
type FanOut struct {
	// Mode is Addresses (every address of the URL's host) or Endpoints (every
	// ready endpoint of the URL's Service, read from its EndpointSlices).
	// +required
	Mode FanOutMode `json:"mode"`

	// MinHealthy is how many backends must be Up or Slow for the target not to be
	// Down: a number, such as 2, or a percentage of the backends, such as "50%"
	// (rounded up). At least one backend must always be healthy. The target is Slow
	// when a healthy backend is Slow, else Up; when some backends are Down but
	// enough are healthy, the Degraded condition is True with reason BackendsDown.
	// +optional
	// +kubebuilder:default="100%"
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=4
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? (self >= 1 && self <= 1000) : self.matches('^([1-9][0-9]?|100)%$')",message="minHealthy must be a number from 1 to 1000 or a percentage from 1% to 100%"
	MinHealthy *intstr.IntOrString `json:"minHealthy,omitempty"`
}

// TargetSource discovers targets from objects of the HealthCheck's namespace:
// exactly one of ingresses, httpRoutes or services. On a source object, the
// annotation monitoring.healthcheck.dev/path overrides the path of its targets,
// and monitoring.healthcheck.dev/ignore: "true" leaves it out.
// +kubebuilder:validation:XValidation:rule="(has(self.ingresses) ? 1 : 0) + (has(self.httpRoutes) ? 1 : 0) + (has(self.services) ? 1 : 0) == 1",message="set exactly one of ingresses, httpRoutes or services"
// +kubebuilder:validation:XValidation:rule="!has(self.services) || !has(self.services.scheme) || !(self.services.scheme in ['tcp', 'tls', 'grpc', 'grpcs']) || !has(self.template) || ((!has(self.template.method) || self.template.method == 'GET') && (!has(self.template.expectedStatusCodes) || self.template.expectedStatusCodes == ['200-299']) && !has(self.template.bodyContains) && !has(self.template.bodyMatches) && !has(self.template.headers) && (!has(self.template.followRedirects) || self.template.followRedirects))",messageExpression="'template: method, expectedStatusCodes, bodyContains, bodyMatches, headers and followRedirects apply only to http and https, not to the services scheme ' + self.services.scheme",fieldPath=".template"
type TargetSource struct {
	// Ingresses gives one target per rule host and path of every networking.k8s.io/v1
	// Ingress that matches: https://HOST/PATH when the host is among the Ingress's
	// tls hosts, else http://HOST/PATH. Wildcard hosts and rules without a host are
	// left out, and the Ready condition says so.
	// +optional
	Ingresses *ObjectSelector `json:"ingresses,omitempty"`

	// HTTPRoutes gives one target per hostname and PathPrefix or Exact path match of
	// every gateway.networking.k8s.io/v1 HTTPRoute that matches; https when the
	// parent Gateway's listener for the hostname is HTTPS, or when the Gateway cannot
	// be read. Without the Gateway API CRDs in the cluster, the source is unavailable
	// (Ready is False, reason SourceUnavailable) and the rest keeps working.
	// +optional
	HTTPRoutes *ObjectSelector `json:"httpRoutes,omitempty"`

	// Services gives SCHEME://NAME.NAMESPACE.svc:PORT/PATH for every Service that matches.
	// +optional
	Services *ServiceSource `json:"services,omitempty"`

	// Template is applied to every target the source discovers.
	// +optional
	Template *TargetSettings `json:"template,omitempty"`
}

// ObjectSelector selects objects of the HealthCheck's namespace by label.
type ObjectSelector struct {
	// Selector matches the objects' labels; {} matches every object.
	// +required
	Selector BoundedLabelSelector `json:"selector"`
}

// BoundedLabelSelector is a label selector (as metav1.LabelSelector) with
// bounded lists, so a HealthCheck stays small.
type BoundedLabelSelector struct {
	// MatchLabels is a map of labels an object must carry, each with the value given.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	MatchLabels map[string]string `json:"matchLabels,omitempty"`

	// MatchExpressions are label requirements an object must all meet.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is a requirement on one label, as in metav1.LabelSelectorRequirement.
type LabelSelectorRequirement struct {
	// Key is the label's key.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=317
	Key string `json:"key"`

	// Operator is In, NotIn, Exists or DoesNotExist.
	// +required
	// +kubebuilder:validation:Enum=In;NotIn;Exists;DoesNotExist
	Operator metav1.LabelSelectorOperator `json:"operator"`

	// Values are the values of In and NotIn; empty for Exists and DoesNotExist.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=63
	Values []string `json:"values,omitempty"`
}

// ServiceSource selects Services and says how to reach them.
type ServiceSource struct {
	// Selector matches the Services' labels; {} matches every Service.
	// +required
	Selector BoundedLabelSelector `json:"selector"`

	// Port is the Service port to check, by name or number.
	// +required
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? (self >= 1 && self <= 65535) : (size(self) >= 1 && size(self) <= 15)",message="port must be a number from 1 to 65535 or a port name"
	Port intstr.IntOrString `json:"port"`

	// Path is the path of the URL, such as /healthz.
	// +optional
	// +kubebuilder:default="/"
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	Path string `json:"path,omitempty"`

	// Scheme is the URL's scheme: http, https, tcp, tls, grpc or grpcs.
	// +optional
	// +kubebuilder:default=http
	// +kubebuilder:validation:Enum=http;https;tcp;tls;grpc;grpcs
	Scheme string `json:"scheme,omitempty"`
}

// Assertion is a CEL expression that an answer must satisfy.
type Assertion struct {
	// Expression is a CEL expression over the variable response that must evaluate
	// to true, such as response.json.status == "UP". An expression that does not
	// compile, or is not boolean, makes the HealthCheck's Ready condition False
	// with reason InvalidSpec before anything is checked.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Expression string `json:"expression"`

	// Message says what a failure means, such as "actuator reports UP"; status and
	// events show it when the expression is false. Defaults to the expression.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Message string `json:"message,omitempty"`
}

// HTTPHeader is a request header with a literal value or one read from a Secret.
// +kubebuilder:validation:XValidation:rule="has(self.value) != has(self.valueFrom)",message="exactly one of value or valueFrom must be set"
type HTTPHeader struct {
	// Name is the header's name, an HTTP token such as X-Api-Key.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-!#$%&\\'*+.^_|~0-9A-Za-z\\x60]+$')",message="header name must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)"
	Name string `json:"name"`

	// Value is the header's literal value. It is not secret: use valueFrom for credentials.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:XValidation:rule="!self.contains('\\r') && !self.contains('\\n')",message="header value must not contain CR or LF"
	Value string `json:"value,omitempty"`

	// ValueFrom reads the header's value from a Secret in the HealthCheck's namespace.
	// The value never appears in status, events, logs or metrics.
	// +optional
	ValueFrom *HeaderValueSource `json:"valueFrom,omitempty"`
}

// HeaderValueSource names where a header value comes from.
type HeaderValueSource struct {
	// SecretKeyRef selects a key of a Secret in the HealthCheck's namespace.
	// +required
	SecretKeyRef SecretKeySelector `json:"secretKeyRef"`
}

// SecretKeySelector selects a key of a Secret in the same namespace.
type SecretKeySelector struct {
	// Name is the Secret's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Key is the key within the Secret's data.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// Objective is an availability objective over a sliding window.
type Objective struct {
	// Availability is the share of good checks to reach, as a percentage from "50"
	// to "99.999", such as "99.9".
	// +required
	// +kubebuilder:validation:MaxLength=6
	// +kubebuilder:validation:Pattern=`^[5-9][0-9](\.[0-9]{1,3})?$`
	Availability string `json:"availability"`

	// Window is how far back availability is counted, from 1h to 2160h (90 days).
	// +optional
	// +kubebuilder:default="720h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')",message="must be a duration such as 720h (units h, m, s, ms)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$') || (duration(self) >= duration('1h') && duration(self) <= duration('2160h'))",message="must be from 1h to 2160h (90 days)"
	Window *metav1.Duration `json:"window,omitempty"`

	// SlowIsBad counts a Slow answer against the objective; by default a slow good
	// answer is a good check.
	// +optional
	SlowIsBad bool `json:"slowIsBad,omitempty"`
}

// MaintenanceWindow is a recurring window of planned work.
type MaintenanceWindow struct {
	// Schedule is when each window starts, a standard 5-field cron expression
	// (minute hour day-of-month month day-of-week), such as "0 2 * * SUN".
	// +required
	// +kubebuilder:validation:MinLength=9
	// +kubebuilder:validation:MaxLength=128
	Schedule string `json:"schedule"`

	// Duration is how long each window lasts, from 1m to 168h.
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')",message="must be a duration such as 30m or 2h (units h, m, s, ms)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$') || (duration(self) >= duration('1m') && duration(self) <= duration('168h'))",message="must be from 1m to 168h"
	Duration metav1.Duration `json:"duration"`

	// TimeZone is the IANA time zone the schedule is read in, such as
	// Europe/Berlin.
	// +optional
	// +kubebuilder:default=UTC
	// +kubebuilder:validation:MaxLength=64
	TimeZone string `json:"timeZone,omitempty"`
}

// NotifyGrouping says how transitions are grouped into webhook messages.
// +kubebuilder:validation:Enum=Target;Round
type NotifyGrouping string

// Notification groupings.
const (
	// GroupByTarget sends one message per transition.
	GroupByTarget NotifyGrouping = "Target"
	// GroupByRound sends one message per round, listing its transitions.
	GroupByRound NotifyGrouping = "Round"
)

// NotifySpec says where transitions are sent.
type NotifySpec struct {
	// WebhookSecretRef selects the key of a Secret in the HealthCheck's namespace
	// that holds the webhook URL, such as a Slack incoming webhook; the URL carries
	// a token, so it is never written in the spec. The operator POSTs a JSON
	// message with a Slack-compatible "text" field for every TargetDown, TargetSlow
	// and TargetRecovered event, with retries and a timeout.
	// +required
	WebhookSecretRef SecretKeySelector `json:"webhookSecretRef"`

	// RepeatInterval, when set, notifies again every interval while a target
	// stays Down, such as 4h; by default a Down target is notified once.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$')",message="must be a duration such as 4h (units h, m, s, ms)"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]{1,5}(h|m|s|ms)){1,4}$') || duration(self) >= duration('1m')",message="must be at least 1m"
	RepeatInterval *metav1.Duration `json:"repeatInterval,omitempty"`

	// SendResolved sends recoveries too; false sends only problems.
	// +optional
	// +kubebuilder:default=true
	SendResolved *bool `json:"sendResolved,omitempty"`

	// GroupBy is Target (one message per transition) or Round (one message per
	// round listing each of its transitions, at most 50 lines and then how many
	// more).
	// +optional
	// +kubebuilder:default=Target
	GroupBy NotifyGrouping `json:"groupBy,omitempty"`

	// DependsOn names up to 8 HealthChecks of the same namespace. While any of
	// them has Healthy False, this HealthCheck's Down transitions show in status
	// and events as usual but are not notified, and the event names the
	// dependency.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	DependsOn []string `json:"dependsOn,omitempty"`
}

// TLSSpec tunes TLS for https, tls and grpcs targets: how the server's
// certificate is verified, and which client certificate is presented.
// +kubebuilder:validation:XValidation:rule="!(has(self.insecureSkipVerify) && self.insecureSkipVerify && has(self.caBundleSecretRef))",message="caBundleSecretRef has no effect with insecureSkipVerify"
type TLSSpec struct {
	// InsecureSkipVerify accepts any certificate. Opt-in, and shown in the target's
	// status; prefer caBundleSecretRef for private CAs.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`

	// CABundleSecretRef selects a key of a Secret in the HealthCheck's namespace
	// holding PEM certificates that replace the system roots for this target.
	// +optional
	CABundleSecretRef *SecretKeySelector `json:"caBundleSecretRef,omitempty"`

	// ClientCertificateSecretRef names a Secret of type kubernetes.io/tls in the
	// HealthCheck's namespace whose tls.crt and tls.key are presented as the client
	// certificate (mutual TLS) to https, tls and grpcs targets. It is read every
	// round, so a rotated certificate is used from the next round; the key never
	// appears in status, events, logs or metrics.
	// +optional
	ClientCertificateSecretRef *SecretReference `json:"clientCertificateSecretRef,omitempty"`
}

// SecretReference names a Secret in the HealthCheck's namespace.
type SecretReference struct {
	// Name is the Secret's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}
