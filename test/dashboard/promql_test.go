package dashboard

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// checker finds what a PromQL expression uses that the operator does not
// export: metrics missing from its catalog, and labels the series the
// expression selects or computes do not carry.
type checker struct {
	// catalog maps each series name the operator exports to its label names.
	catalog map[string][]string
	parser  parser.Parser
}

func newChecker(catalog map[string][]string) *checker {
	return &checker{catalog: catalog, parser: parser.NewParser(parser.Options{})}
}

// problems parses expr and returns, in words, everything wrong with it: a
// syntax error, or each metric and label it uses that the operator does not
// export.
func (c *checker) problems(expr string) []string {
	ast, err := c.parser.ParseExpr(expr)
	if err != nil {
		return []string{fmt.Sprintf("is not valid PromQL: %v", err)}
	}
	var out []string
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			out = append(out, c.selectorProblems(n)...)
		case *parser.AggregateExpr:
			clause := "by"
			if n.Without {
				clause = "without"
			}
			out = append(out, missing(n.Grouping, c.labelsOf(n.Expr), clause, "the series it aggregates")...)
		case *parser.BinaryExpr:
			out = append(out, c.matchingProblems(n)...)
		}
		return nil
	})
	return out
}

// selectorProblems checks that a selector names an exported metric and matches
// only labels of it.
func (c *checker) selectorProblems(vs *parser.VectorSelector) []string {
	name := metricName(vs)
	if name == "" {
		return []string{fmt.Sprintf("%s selects series without naming a metric", vs)}
	}
	have, ok := c.catalog[name]
	if !ok {
		return []string{fmt.Sprintf("uses %s, which the operator does not export", name)}
	}
	var out []string
	for _, m := range vs.LabelMatchers {
		if m.Name != model.MetricNameLabel && !slices.Contains(have, m.Name) {
			out = append(out, fmt.Sprintf("matches label %q of %s, which has only %q", m.Name, name, have))
		}
	}
	return out
}

// matchingProblems checks the labels of on(), ignoring() and group_left() or
// group_right() of a binary operation between two vectors: on() labels must be
// on both sides, ignoring() labels on either, and included labels on the
// "one" side they are copied from.
func (c *checker) matchingProblems(b *parser.BinaryExpr) []string {
	vm := b.VectorMatching
	if vm == nil || b.LHS.Type() != parser.ValueTypeVector || b.RHS.Type() != parser.ValueTypeVector {
		return nil
	}
	lhs, rhs := c.labelsOf(b.LHS), c.labelsOf(b.RHS)
	var out []string
	if vm.On {
		out = append(out, missing(vm.MatchingLabels, lhs, "on", "its left-hand side")...)
		out = append(out, missing(vm.MatchingLabels, rhs, "on", "its right-hand side")...)
	} else {
		out = append(out, missing(vm.MatchingLabels, union(lhs, rhs), "ignoring", "either side")...)
	}
	switch vm.Card {
	case parser.CardManyToOne:
		out = append(out, missing(vm.Include, rhs, "group_left", "its right-hand side")...)
	case parser.CardOneToMany:
		out = append(out, missing(vm.Include, lhs, "group_right", "its left-hand side")...)
	}
	return out
}

// labelsOf returns the label names of the series e evaluates to, as far as the
// catalog tells: a selector's metric's labels, passed through functions,
// aggregations and binary operations as Prometheus passes them. Metric names
// are not labels here; unknown metrics contribute none.
func (c *checker) labelsOf(e parser.Expr) map[string]bool {
	switch e := e.(type) {
	case *parser.VectorSelector:
		return setOf(c.catalog[metricName(e)]...)
	case *parser.MatrixSelector:
		return c.labelsOf(e.VectorSelector)
	case *parser.SubqueryExpr:
		return c.labelsOf(e.Expr)
	case *parser.ParenExpr:
		return c.labelsOf(e.Expr)
	case *parser.UnaryExpr:
		return c.labelsOf(e.Expr)
	case *parser.StepInvariantExpr:
		return c.labelsOf(e.Expr)
	case *parser.AggregateExpr:
		return c.aggregatedLabels(e)
	case *parser.Call:
		return c.calledLabels(e)
	case *parser.BinaryExpr:
		return c.combinedLabels(e)
	}
	return map[string]bool{} // literals
}

func (c *checker) aggregatedLabels(e *parser.AggregateExpr) map[string]bool {
	inner := c.labelsOf(e.Expr)
	switch e.Op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		return inner // they select series, labels and all
	}
	var out map[string]bool
	if e.Without {
		out = inner
		for _, l := range e.Grouping {
			delete(out, l)
		}
	} else {
		out = setOf(e.Grouping...)
	}
	if s, ok := e.Param.(*parser.StringLiteral); ok && e.Op == parser.COUNT_VALUES {
		out[s.Val] = true
	}
	return out
}

func (c *checker) calledLabels(e *parser.Call) map[string]bool {
	if e.Func.ReturnType != parser.ValueTypeVector {
		return map[string]bool{}
	}
	switch e.Func.Name {
	case "vector", "time":
		return map[string]bool{}
	case "histogram_quantile":
		out := c.labelsOf(e.Args[1])
		delete(out, "le")
		return out
	case "label_replace", "label_join":
		out := c.labelsOf(e.Args[0])
		if dst, ok := e.Args[1].(*parser.StringLiteral); ok {
			out[dst.Val] = true
		}
		return out
	}
	out := map[string]bool{}
	for _, arg := range e.Args {
		if t := arg.Type(); t == parser.ValueTypeVector || t == parser.ValueTypeMatrix {
			maps.Copy(out, c.labelsOf(arg))
		}
	}
	return out
}

func (c *checker) combinedLabels(e *parser.BinaryExpr) map[string]bool {
	lhs, rhs := c.labelsOf(e.LHS), c.labelsOf(e.RHS)
	switch {
	case e.LHS.Type() != parser.ValueTypeVector:
		return rhs
	case e.RHS.Type() != parser.ValueTypeVector:
		return lhs
	}
	switch e.Op {
	case parser.LAND, parser.LUNLESS:
		return lhs
	case parser.LOR:
		return union(lhs, rhs)
	}
	vm := e.VectorMatching
	var out map[string]bool
	switch vm.Card {
	case parser.CardOneToMany:
		out = rhs
	case parser.CardManyToOne:
		out = lhs
	default:
		out = lhs
		if vm.On {
			out = setOf(vm.MatchingLabels...)
			for l := range out {
				if !lhs[l] {
					delete(out, l)
				}
			}
		} else {
			for _, l := range vm.MatchingLabels {
				delete(out, l)
			}
		}
	}
	for _, l := range vm.Include {
		out[l] = true
	}
	return out
}

// metricName returns the metric a selector names, by name or __name__="...".
func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// missing reports each of used that have lacks, as used in clause.
func missing(used []string, have map[string]bool, clause, where string) []string {
	var out []string
	for _, l := range used {
		if !have[l] {
			out = append(out, fmt.Sprintf("%s (%s) uses label %q, which %s does not carry (it has %q)",
				clause, strings.Join(used, ", "), l, where, slices.Sorted(maps.Keys(have))))
		}
	}
	return out
}

func setOf(names ...string) map[string]bool {
	out := make(map[string]bool, len(names))
	for _, l := range names {
		out[l] = true
	}
	return out
}

func union(a, b map[string]bool) map[string]bool {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}
