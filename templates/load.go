package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"unicode/utf8"

	"github.com/jacksmood/dispatch/campaigns"
)

// builtinFS holds the built-in templates; "all:" because the partials folder starts with "_".
//
//go:embed all:builtin
var builtinFS embed.FS

// partialsDir is the folder of shared {{define}} blocks; it is not a template.
const partialsDir = "_partials"

// sourceFile is one template file as read.
type sourceFile struct {
	origin string // how error messages name the file
	text   string
}

// sourceTree maps a folder name to its files by file name.
type sourceTree map[string]map[string]sourceFile

// New parses the built-in templates and then, when overrideDir is not "", the override folder:
// one folder per template name, whose files replace the built-in file of the same name or add
// to it, and a _partials folder whose files replace or add shared blocks (see README.md).
//
// It returns an error naming the file when the folder cannot be read, a file name is not
// understood, a file is not UTF-8, a template does not parse, refers to a field Data does not
// have, or calls a {{template}} that does not exist. It does not require every template to have
// every channel and language; Check does that for the channels a campaign uses.
func New(overrideDir string) (*Renderer, error) {
	tree := sourceTree{}
	if err := readTree(builtinFS, "builtin", func(rel string) string { return "builtin/" + rel }, tree); err != nil {
		return nil, fmt.Errorf("templates: built-in: %w", err)
	}
	if overrideDir != "" {
		st, err := os.Stat(overrideDir)
		if err != nil {
			return nil, fmt.Errorf("templates: template folder: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("templates: template folder %s is not a folder", overrideDir)
		}
		origin := func(rel string) string { return filepath.Join(overrideDir, filepath.FromSlash(rel)) }
		// The folder is opened as an os.Root: a link that leads out of it (to /proc/self/environ, a
		// key file) is refused by the kernel's own path walk, so no template can read a file outside.
		root, err := os.OpenRoot(overrideDir)
		if err != nil {
			return nil, fmt.Errorf("templates: template folder: %w", err)
		}
		defer root.Close()
		if err := readTree(root.FS(), ".", origin, tree); err != nil {
			if strings.Contains(err.Error(), "escapes from parent") {
				return nil, fmt.Errorf("templates: %s: a link out of the template folder (DISPATCH_TEMPLATE_DIR) is refused", pathOf(err, overrideDir))
			}
			return nil, fmt.Errorf("templates: %w", err)
		}
	}
	r, err := compile(tree)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return r, nil
}

// pathOf names the file an fs error is about, inside dir.
func pathOf(err error, dir string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return filepath.Join(dir, filepath.FromSlash(pe.Path))
	}
	return dir
}

// ignored reports whether a file in a template folder is not a template: hidden files and
// README or Markdown notes.
func ignored(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(strings.ToUpper(name), "README") ||
		strings.EqualFold(path.Ext(name), ".md")
}

// validTemplateName reports whether s may name a template: letters, digits, '-' and '_',
// starting with a letter or digit.
func validTemplateName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case (r == '-' || r == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// isDir reports whether the entry at p is a folder, following a symbolic link.
func isDir(fsys fs.FS, p string, e fs.DirEntry) (bool, error) {
	if e.Type()&fs.ModeSymlink == 0 {
		return e.IsDir(), nil
	}
	st, err := fs.Stat(fsys, p)
	if err != nil {
		return false, err
	}
	return st.IsDir(), nil
}

// readTree reads root's template folders into tree, replacing files of the same folder and name.
func readTree(fsys fs.FS, root string, origin func(rel string) string, tree sourceTree) error {
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if ignored(name) {
			continue
		}
		dir, err := isDir(fsys, path.Join(root, name), e)
		if err != nil {
			return err
		}
		if !dir {
			return fmt.Errorf("%s: a file outside a template folder (put it in a folder named after the template)", origin(name))
		}
		if name != partialsDir && !validTemplateName(name) {
			return fmt.Errorf("%s: a template folder's name may only have letters, digits, '-' and '_'", origin(name))
		}
		files, err := fs.ReadDir(fsys, path.Join(root, name))
		if err != nil {
			return err
		}
		for _, f := range files {
			fn := f.Name()
			if ignored(fn) {
				continue
			}
			rel := name + "/" + fn
			if dir, err := isDir(fsys, path.Join(root, rel), f); err != nil {
				return err
			} else if dir {
				return fmt.Errorf("%s: a folder inside a template folder", origin(rel))
			}
			b, err := fs.ReadFile(fsys, path.Join(root, rel))
			if err != nil {
				return err
			}
			if !utf8.Valid(b) {
				return fmt.Errorf("%s: not UTF-8 text (save the file as UTF-8)", origin(rel))
			}
			b = bytes.TrimPrefix(b, []byte("\uFEFF"))
			b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
			if tree[name] == nil {
				tree[name] = map[string]sourceFile{}
			}
			tree[name][fn] = sourceFile{origin: origin(rel), text: string(b)}
		}
	}
	return nil
}

// parseFileName splits a template file name CHANNEL.LANGUAGE.PART.
func parseFileName(fn string) (campaigns.Channel, campaigns.Language, part, bool) {
	f := strings.Split(fn, ".")
	if len(f) != 3 {
		return "", "", 0, false
	}
	ch, lang := campaigns.Channel(f[0]), campaigns.Language(f[1])
	if !validLanguage(lang) {
		return "", "", 0, false
	}
	for _, p := range channelParts(ch) {
		if p.suffix() == f[2] {
			return ch, lang, p, true
		}
	}
	return "", "", 0, false
}

// partial is one file of the _partials folder.
type partial struct {
	src  sourceFile
	lang campaigns.Language // "" for every language
	html bool
}

// parsePartials classifies the _partials files: NAME.html, NAME.txt (every language) or
// NAME.LANG.html, NAME.LANG.txt; sorted so that files for every language come first.
func parsePartials(files map[string]sourceFile) ([]partial, error) {
	var ps []partial
	for _, fn := range slices.Sorted(maps.Keys(files)) {
		src := files[fn]
		f := strings.Split(fn, ".")
		ext := f[len(f)-1]
		if (ext != "html" && ext != "txt") || len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("%s: unknown file name (want NAME.html, NAME.txt, NAME.LANGUAGE.html or NAME.LANGUAGE.txt)", src.origin)
		}
		p := partial{src: src, html: ext == "html"}
		if len(f) == 3 {
			p.lang = campaigns.Language(f[1])
			if !validLanguage(p.lang) {
				return nil, fmt.Errorf("%s: unknown language %q (want fi, sv or en)", src.origin, f[1])
			}
		}
		ps = append(ps, p)
	}
	slices.SortStableFunc(ps, func(a, b partial) int {
		return strings.Compare(string(a.lang), string(b.lang))
	})
	return ps, nil
}

// compile parses every file of tree into a Renderer.
func compile(tree sourceTree) (*Renderer, error) {
	ps, err := parsePartials(tree[partialsDir])
	if err != nil {
		return nil, err
	}
	htmlBase := map[campaigns.Language]*htmltemplate.Template{}
	textBase := map[campaigns.Language]*template.Template{}
	for _, lang := range campaigns.Languages {
		hb := htmltemplate.New("_").Funcs(htmltemplate.FuncMap(funcs()))
		tb := template.New("_").Funcs(funcs())
		for _, p := range ps {
			if p.lang != "" && p.lang != lang {
				continue
			}
			if p.html {
				_, err = hb.New(p.src.origin).Parse(p.src.text)
			} else {
				_, err = tb.New(p.src.origin).Parse(p.src.text)
			}
			if err != nil {
				return nil, err
			}
		}
		htmlBase[lang], textBase[lang] = hb, tb
	}

	r := &Renderer{
		sets: map[setKey]*messageSet{},
		bufs: sync.Pool{New: func() any { return new(bytes.Buffer) }},
		href: htmltemplate.Must(htmltemplate.New("href").Parse(`<a href="{{.}}">`)),
	}
	for _, name := range slices.Sorted(maps.Keys(tree)) {
		if name == partialsDir {
			continue
		}
		r.names = append(r.names, name)
		for _, ch := range campaigns.Channels {
			for _, lang := range campaigns.Languages {
				r.sets[setKey{name, ch, lang}] = &messageSet{}
			}
		}
		files := tree[name]
		for _, fn := range slices.Sorted(maps.Keys(files)) {
			src := files[fn]
			ch, lang, p, ok := parseFileName(fn)
			if !ok {
				return nil, fmt.Errorf("%s: unknown file name (want CHANNEL.LANGUAGE.PART: email.fi.subject, email.fi.txt, "+
					"email.fi.html, sms.fi.txt, postal.fi.title or postal.fi.txt; languages fi, sv, en)", src.origin)
			}
			var ex executor
			if p == partHTML {
				ex, err = parseHTML(htmlBase[lang], src, lang)
			} else {
				ex, err = parseText(textBase[lang], src)
			}
			if err != nil {
				return nil, err
			}
			r.sets[setKey{name, ch, lang}].parts[p] = ex
		}
		for _, ch := range campaigns.Channels {
			for _, lang := range campaigns.Languages {
				set := r.sets[setKey{name, ch, lang}]
				for _, p := range channelParts(ch) {
					if set.parts[p] == nil {
						set.missing = append(set.missing, fmt.Sprintf("%s/%s.%s.%s", name, ch, lang, p.suffix()))
					}
				}
			}
		}
	}
	return r, nil
}

var dataType = reflect.TypeFor[*Data]()

// parseText parses src into a copy of the language's text partials and checks its field references.
func parseText(base *template.Template, src sourceFile) (*template.Template, error) {
	set, err := base.Clone()
	if err != nil {
		return nil, err
	}
	t, err := set.New(src.origin).Parse(src.text)
	if err != nil {
		return nil, err
	}
	lookup := func(name string) *parse.Tree {
		if t := set.Lookup(name); t != nil {
			return t.Tree
		}
		return nil
	}
	if err := checkFields(lookup, src.origin, dataType); err != nil {
		return nil, err
	}
	return t, nil
}

// parseHTML parses src into a copy of the language's HTML partials, checks its field references and
// runs html/template's contextual escaping once (with sample data), so that an escaping error,
// such as an action inside an unquoted attribute it cannot make safe, is reported here.
func parseHTML(base *htmltemplate.Template, src sourceFile, lang campaigns.Language) (*htmltemplate.Template, error) {
	set, err := base.Clone()
	if err != nil {
		return nil, err
	}
	t, err := set.New(src.origin).Parse(src.text)
	if err != nil {
		return nil, err
	}
	lookup := func(name string) *parse.Tree {
		if t := set.Lookup(name); t != nil {
			return t.Tree
		}
		return nil
	}
	if err := checkFields(lookup, src.origin, dataType); err != nil {
		return nil, err
	}
	d := SampleData(kindCoupon, lang)
	var escErr *htmltemplate.Error
	if err := t.Execute(io.Discard, &d); errors.As(err, &escErr) {
		return nil, err
	}
	return t, nil
}
