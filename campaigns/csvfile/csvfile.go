// Package csvfile reads the CSV files that feed the register: members (with the population register's
// address update columns), purchases and suppressions. It checks every field and hands on clean rows
// one at a time, so a file of any size is read in constant memory.
//
// Two kinds of problem are told apart. A row whose fields are wrong (a bad email, a postal code of four
// digits) is a RowError: it is reported with its line number and skipped, and the caller goes on. A file
// that cannot be trusted (a header that is not the expected one, broken quoting, a byte that is not
// UTF-8) stops the read with an error naming the line: nothing after it can be trusted, and the caller
// must import nothing.
package csvfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jacksmood/dispatch/campaigns"
)

// RowError is a problem with one row (campaigns.RowError): its line number, the field, and why.
type RowError = campaigns.RowError

// FileError is a problem that makes the whole file untrustworthy (campaigns.FileError).
type FileError = campaigns.FileError

// table reads a CSV file with a header row, checking the header against the required and optional
// columns, and yields each record as a map from column name to field through get.
type table struct {
	name   string
	r      *csv.Reader
	cols   map[string]int
	record []string
	line   int
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// notUTF8 is the hint given with a byte that is not UTF-8: almost always a file that Excel saved in
// the Windows code page.
const notUTF8 = "is not valid UTF-8: the file seems to be saved as Windows-1252 (Excel's \"CSV (Comma delimited)\"); save it as \"CSV UTF-8\" and import it again"

// separatorOf says which separator a file uses: ';' when its header line has semicolons and no
// commas (Excel in a Finnish locale writes "CSV" that way), else ','.
func separatorOf(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	if bytes.IndexByte(head, ';') >= 0 && bytes.IndexByte(head, ',') < 0 {
		return ';'
	}
	return ','
}

func openTable(r io.Reader, name string, required, optional []string) (*table, error) {
	br := bufio.NewReaderSize(newBOMSkipper(r), 64<<10)
	cr := csv.NewReader(br)
	cr.Comma = separatorOf(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &FileError{Name: name, Line: 1, Reason: "the file is empty; expected a header row"}
	}
	if err != nil {
		return nil, parseError(name, err)
	}
	t := &table{name: name, r: cr, cols: make(map[string]int)}
	known := make(map[string]bool)
	for _, c := range append(append([]string{}, required...), optional...) {
		known[c] = true
	}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if !utf8.ValidString(h) {
			return nil, &FileError{Name: name, Line: 1, Reason: fmt.Sprintf("column %d of the header %s", i+1, notUTF8)}
		}
		if !known[h] {
			return nil, &FileError{Name: name, Line: 1, Reason: fmt.Sprintf("unknown column %q (expected %s)", h, strings.Join(required, ","))}
		}
		if _, dup := t.cols[h]; dup {
			return nil, &FileError{Name: name, Line: 1, Reason: fmt.Sprintf("column %q appears twice", h)}
		}
		t.cols[h] = i
	}
	for _, c := range required {
		if _, ok := t.cols[c]; !ok {
			return nil, &FileError{Name: name, Line: 1, Reason: fmt.Sprintf("missing column %q", c)}
		}
	}
	cr.FieldsPerRecord = len(header)
	return t, nil
}

// next reads the next record; it returns io.EOF at the end and a *FileError for anything the file
// cannot be trusted after.
func (t *table) next() error {
	rec, err := t.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return parseError(t.name, err)
	}
	t.line, _ = t.r.FieldPos(0)
	for i, f := range rec {
		if !utf8.ValidString(f) {
			line, col := t.r.FieldPos(i)
			return &FileError{Name: t.name, Line: line, Reason: fmt.Sprintf("field %d (column %d) %s", i+1, col, notUTF8)}
		}
	}
	t.record = rec
	return nil
}

// firstPerField keeps the first problem of each field.
func firstPerField(problems []RowError) []RowError {
	seen := map[string]bool{}
	out := problems[:0]
	for _, p := range problems {
		if !seen[p.Field] {
			seen[p.Field] = true
			out = append(out, p)
		}
	}
	return out
}

// fieldProblems checks every field of the current record with campaigns.CheckField, by its column.
func (t *table) fieldProblems() []RowError {
	var out []RowError
	for name, i := range t.cols {
		if err := campaigns.CheckField(name, strings.TrimSpace(t.record[i])); err != nil {
			out = append(out, RowError{Line: t.line, Field: name, Reason: err.Error()})
		}
	}
	slices.SortFunc(out, func(a, b RowError) int { return t.cols[a.Field] - t.cols[b.Field] })
	return out
}

// get returns the trimmed value of column c, or "" when the file has no such column.
func (t *table) get(c string) string {
	i, ok := t.cols[c]
	if !ok {
		return ""
	}
	return strings.TrimSpace(t.record[i])
}

func parseError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			reason = "wrong number of fields (the header has a different count)"
		}
		return &FileError{Name: name, Line: pe.StartLine, Reason: reason}
	}
	// Not the file's fault (an upload cut off, over its size limit): the error as it is.
	return fmt.Errorf("read %s: %w", name, err)
}

// bomSkipper drops a UTF-8 byte order mark at the start of the input, as spreadsheet programs write one.
type bomSkipper struct {
	r       io.Reader
	checked bool
	buf     []byte
}

func newBOMSkipper(r io.Reader) io.Reader { return &bomSkipper{r: r} }

func (b *bomSkipper) Read(p []byte) (int, error) {
	if !b.checked {
		b.checked = true
		head := make([]byte, 3)
		n, err := io.ReadFull(b.r, head)
		head = head[:n]
		if !bytes.Equal(head, utf8BOM) {
			b.buf = head
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return 0, err
		}
	}
	if len(b.buf) > 0 {
		n := copy(p, b.buf)
		b.buf = b.buf[n:]
		return n, nil
	}
	return b.r.Read(p)
}

// FormatFlag writes a yes/no column as parseFlag reads it: "yes", "no", or "" for nil (no change).
func FormatFlag(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

// parseFlag reads a yes/no column: "yes" true, "no" false, "" nil (no change).
func parseFlag(v string) (*bool, bool) {
	switch strings.ToLower(v) {
	case "":
		return nil, true
	case "yes":
		t := true
		return &t, true
	case "no":
		f := false
		return &f, true
	}
	return nil, false
}

// readRows is the loop every reader shares: it reads records until the end or a *FileError, parses
// each with parse, rejects a row whose key (when key is not nil) repeats an earlier row's, and hands
// the clean rows to row in file order. A rejected row gives one RowError per problem found in it,
// all with the row's line.
func readRows[T any](t *table, parse func(*table) (T, []RowError), keyField string, key func(T) string, row func(T) error) ([]RowError, error) {
	var rejected []RowError
	seen := make(map[string]int)
	for {
		if err := t.next(); errors.Is(err, io.EOF) {
			return rejected, nil
		} else if err != nil {
			return rejected, err
		}
		v, problems := parse(t)
		// Control characters (a NUL, a line break inside a quoted field) and over-long values are
		// reported with their column, before the field's own rules.
		problems = firstPerField(append(t.fieldProblems(), problems...))
		if len(problems) == 0 && key != nil {
			k := key(v)
			if first, dup := seen[k]; dup {
				problems = []RowError{{Line: t.line, Field: keyField, Reason: fmt.Sprintf("%q already appears on line %d", k, first)}}
			} else {
				seen[k] = t.line
			}
		}
		if len(problems) > 0 {
			rejected = append(rejected, problems...)
			continue
		}
		if err := row(v); err != nil {
			return rejected, err
		}
	}
}
