package assert

import (
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
)

// readsBody tells whether a checked expression may read response.body or
// response.json. Only response.<field> for another field is known not to:
// any other use of response (whole, indexed, shadowed by a comprehension
// variable) counts as reading the body, so the answer errs on the safe side.
func readsBody(e ast.Expr) bool {
	var uses []int64         // ids of every response identifier
	safe := map[int64]bool{} // ids of those that only select a field other than body or json
	body := false
	ast.PreOrderVisit(e, ast.NewExprVisitor(func(e ast.Expr) {
		switch e.Kind() {
		case ast.IdentKind:
			if e.AsIdent() == responseVar {
				uses = append(uses, e.ID())
			}
		case ast.SelectKind:
			if operand := e.AsSelect().Operand(); isResponse(operand) {
				if isBodyField(e.AsSelect().FieldName()) {
					body = true
				} else {
					safe[operand.ID()] = true
				}
			}
		case ast.CallKind:
			if call := e.AsCall(); call.FunctionName() == "_[_]" && len(call.Args()) == 2 && isResponse(call.Args()[0]) {
				key := call.Args()[1]
				if key.Kind() != ast.LiteralKind {
					return
				}
				if name, ok := key.AsLiteral().(types.String); ok && !isBodyField(string(name)) {
					safe[call.Args()[0].ID()] = true
				}
			}
		}
	}))
	if body {
		return true
	}
	for _, id := range uses {
		if !safe[id] {
			return true
		}
	}
	return false
}

func isResponse(e ast.Expr) bool {
	return e.Kind() == ast.IdentKind && e.AsIdent() == responseVar
}

func isBodyField(name string) bool {
	return name == fieldBody || name == fieldJSON
}
