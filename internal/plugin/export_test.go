package plugin

import "context"

// URLProblems is what run says of a list of URLs: a problem a line, each
// starting with the URL's source, here "urls.txt:N".
func URLProblems(ctx context.Context, urls []string) ([]string, error) {
	listed := make([]listedURL, len(urls))
	for i, u := range urls {
		listed[i] = listedURL{url: u, file: "urls.txt", line: i + 1}
	}
	return urlProblems(ctx, listed)
}

// TrickyURLs are URLs at the edges of the CRD's url rules.
func TrickyURLs() []string { return trickyURLs() }
