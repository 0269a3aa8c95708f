package templates

import (
	"fmt"
	"reflect"
	"text/template/parse"
)

// checkFields walks the parse tree of template name, and of every template it invokes, following
// the type of dot, and reports the first field or method that the type does not have, or a
// {{template}} call to a template that does not exist. Where the type of dot cannot be known
// (a variable, a map, an interface, the result of a built-in function), it checks nothing, so it
// never refuses a template that would execute; execution errors are left to Check.
//
// It exists because text/template reports a misspelt field only when the action is executed: a
// {{.Nope}} inside an {{if}} that the sample data never enters would otherwise reach a member.
func checkFields(lookup func(string) *parse.Tree, name string, dot reflect.Type) error {
	c := &fieldChecker{lookup: lookup, done: map[checkKey]bool{}}
	return c.template(name, dot, nil, nil)
}

type fieldChecker struct {
	lookup func(string) *parse.Tree
	done   map[checkKey]bool
}

type checkKey struct {
	name string
	dot  reflect.Type
}

// scope is what the walker knows at a point of a template.
type scope struct {
	tree   *parse.Tree
	dot    reflect.Type // nil: unknown
	dollar reflect.Type // the type of $, the data the template was invoked with
}

func (c *fieldChecker) template(name string, dot reflect.Type, caller *parse.Tree, at parse.Node) error {
	tree := c.lookup(name)
	if tree == nil || tree.Root == nil {
		if caller != nil {
			loc, _ := caller.ErrorContext(at)
			return fmt.Errorf("template: %s: no template %q is defined", loc, name)
		}
		return fmt.Errorf("template: no template %q is defined", name)
	}
	k := checkKey{name, dot}
	if c.done[k] {
		return nil
	}
	c.done[k] = true
	return c.list(scope{tree: tree, dot: dot, dollar: dot}, tree.Root)
}

func (c *fieldChecker) list(s scope, l *parse.ListNode) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		if err := c.node(s, n); err != nil {
			return err
		}
	}
	return nil
}

func (c *fieldChecker) node(s scope, n parse.Node) error {
	switch n := n.(type) {
	case *parse.ActionNode:
		_, err := c.pipe(s, n.Pipe)
		return err
	case *parse.IfNode:
		return c.branch(s, &n.BranchNode, nil, false)
	case *parse.WithNode:
		return c.branch(s, &n.BranchNode, nil, true)
	case *parse.RangeNode:
		return c.branch(s, &n.BranchNode, elemType, true)
	case *parse.TemplateNode:
		t, err := c.pipe(s, n.Pipe)
		if err != nil {
			return err
		}
		return c.template(n.Name, t, s.tree, n)
	case *parse.ListNode:
		return c.list(s, n)
	}
	return nil
}

// branch checks an if, with or range: the pipeline, the body (with dot moved for with and range)
// and the else part with the outer dot.
func (c *fieldChecker) branch(s scope, b *parse.BranchNode, inner func(reflect.Type) reflect.Type, moveDot bool) error {
	t, err := c.pipe(s, b.Pipe)
	if err != nil {
		return err
	}
	body := s
	if moveDot {
		if inner != nil {
			t = inner(t)
		}
		body.dot = t
	}
	if err := c.list(body, b.List); err != nil {
		return err
	}
	return c.list(s, b.ElseList)
}

// pipe checks a pipeline and returns the type it yields, or nil when unknown.
func (c *fieldChecker) pipe(s scope, p *parse.PipeNode) (reflect.Type, error) {
	if p == nil {
		return nil, nil
	}
	var t reflect.Type
	for _, cmd := range p.Cmds {
		for i, arg := range cmd.Args {
			at, aerr := c.arg(s, arg)
			if aerr != nil {
				return nil, aerr
			}
			if i == 0 {
				t = at
			}
		}
		if _, isFunc := cmd.Args[0].(*parse.IdentifierNode); isFunc || len(cmd.Args) > 1 {
			t = nil // a function's result, or a method called with arguments: not followed
		}
	}
	return t, nil
}

// arg checks one operand and returns its type, or nil when unknown.
func (c *fieldChecker) arg(s scope, n parse.Node) (reflect.Type, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return s.dot, nil
	case *parse.FieldNode:
		return c.fields(s, n, s.dot, n.Ident)
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			return c.fields(s, n, s.dollar, n.Ident[1:])
		}
		return nil, nil
	case *parse.ChainNode:
		t, err := c.arg(s, n.Node)
		if err != nil {
			return nil, err
		}
		return c.fields(s, n, t, n.Field)
	case *parse.PipeNode:
		return c.pipe(s, n)
	}
	return nil, nil
}

// fields follows a chain of field or method names from type t.
func (c *fieldChecker) fields(s scope, n parse.Node, t reflect.Type, idents []string) (reflect.Type, error) {
	for _, id := range idents {
		if t == nil {
			return nil, nil
		}
		next, ok := fieldType(t, id)
		if !ok {
			loc, _ := s.tree.ErrorContext(n)
			return nil, fmt.Errorf("template: %s: unknown field %q: %s has no field or method %s", loc, id, typeName(t), id)
		}
		t = next
	}
	return t, nil
}

// fieldType returns the type of field or method name of t as text/template resolves it; ok is
// false when t certainly has no such field. A nil type means unknown.
func fieldType(t reflect.Type, name string) (reflect.Type, bool) {
	for {
		if m, ok := t.MethodByName(name); ok {
			return methodResult(m.Type), true
		}
		if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
			if m, ok := reflect.PointerTo(t).MethodByName(name); ok {
				return methodResult(m.Type), true
			}
		}
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
			continue
		case reflect.Struct:
			f, ok := t.FieldByName(name)
			if !ok || !f.IsExported() {
				return nil, false
			}
			return f.Type, true
		case reflect.Map:
			return t.Elem(), true
		case reflect.Interface:
			return nil, true
		}
		return nil, false
	}
}

func methodResult(ft reflect.Type) reflect.Type {
	if ft.NumOut() == 0 {
		return nil
	}
	return ft.Out(0)
}

// elemType is the type of dot inside a range over a value of type t, or nil when unknown.
func elemType(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		return t.Elem()
	}
	return nil
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[Data]() {
		return "the template data (templates.Data)"
	}
	return t.String()
}
