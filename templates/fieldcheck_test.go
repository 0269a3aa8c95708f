package templates

import (
	"strings"
	"testing"
	"text/template"
	"text/template/parse"
)

func checkSource(t *testing.T, src string) error {
	t.Helper()
	set, err := template.New("t").Funcs(funcs()).Parse(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	lookup := func(name string) *parse.Tree {
		if x := set.Lookup(name); x != nil {
			return x.Tree
		}
		return nil
	}
	return checkFields(lookup, "t", dataType)
}

func TestCheckFieldsAcceptsValidTemplates(t *testing.T) {
	for _, src := range []string{
		`{{.FirstName}} {{$.LastName}} {{.Language}} {{if .Test}}x{{else if .CouponCode}}{{.Discount}}{{end}}`,
		`{{with .ValidUntil}}{{.Year}} {{.Month.String}} {{$.FirstName}}{{else}}{{.CouponCode}}{{end}}`,
		`{{.ValidUntil.Format "2.1.2006"}} {{date .ValidUntil .Language}} {{printf "%s" .City | len}}`,
		`{{range $i, $c := .FirstName}}{{$i}}{{end}}{{$x := .Street}}{{$x}}`,
		`{{define "a"}}{{.Year}}{{end}}{{template "a" .ValidUntil}}{{define "b"}}{{.FirstName}}{{template "b" .}}{{end}}{{template "b" .}}`, // recursion: walked once
		`{{template "c" "literal"}}{{define "c"}}{{.Anything}}{{end}}`,                                                                      // dot of unknown type: not checked
		`{{if eq .Language "sv"}}Hej{{end}} {{(.ValidUntil).Day}}`,
	} {
		if err := checkSource(t, src); err != nil {
			t.Errorf("checkFields(%q) = %v, want nil", src, err)
		}
	}
}

func TestCheckFieldsRefusesUnknownFields(t *testing.T) {
	for src, want := range map[string]string{
		`{{.Nope}}`:                            `"Nope"`,
		`{{$.Nope}}`:                           `"Nope"`,
		`{{if .Test}}{{else}}{{.Nope}}{{end}}`: `"Nope"`,
		`{{with .ValidUntil}}{{.FirstName}}{{end}}`:                  `time.Time has no field or method FirstName`,
		`{{with .Test}}{{else}}{{.Nope}}{{end}}`:                     `"Nope"`,
		`{{range .Nope}}{{end}}`:                                     `"Nope"`,
		`{{date .Nope .Language}}`:                                   `"Nope"`,
		`{{.Language.Code}}`:                                         `campaigns.Language has no field or method Code`,
		`{{.ValidUntil.Nope}}`:                                       `"Nope"`,
		`{{define "a"}}{{.Yaer}}{{end}}{{template "a" .ValidUntil}}`: `"Yaer"`,
		`{{template "missing" .}}`:                                   `no template "missing"`,
		`{{(.Nope).X}}`:                                              `"Nope"`,
	} {
		err := checkSource(t, src)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "t:1:") {
			t.Errorf("checkFields(%q) = %v, want an error with t:1: and %q", src, err, want)
		}
	}
}
