// Package print renders postal letters and writes print batches for the print house.
//
// A batch named N is three files in the print folder (DISPATCH_PRINT_DIR):
//
//   - N.pdf: A4 portrait, one letter a page in the order given, the recipient address placed for a
//     C5/C65 right-window envelope, alone in the window;
//   - N.csv: the manifest, one row a letter, its sequence being the letter's page number;
//   - N.sha256: sha256sum-compatible checksums of the two, so `sha256sum -c N.sha256` verifies them.
//
// The files are written into a temporary folder inside the print folder, synced, and renamed into
// place; the old N.sha256 is removed first and the new one is renamed last, so a batch whose .sha256
// is present and verifies is complete. The print house should pick batches up by their .sha256.
//
// Render draws letters the same way into any io.Writer without writing a file (letter previews); a
// Renderer made by NewRenderer does only that, and needs no print folder.
//
// The PDF is set in the Go fonts (golang.org/x/image/font/gofont), embedded as subsets of the
// characters used. They cover the WGL4 character set: Latin with every European letter, Greek and
// Cyrillic, so names print as written. A letter whose name, address, title, text or coupon code has
// a character they cannot draw (Chinese, Arabic, emoji, ...) is not printed: SendBatch writes the
// others and reports it in a *LetterErrors. Invisible characters (controls, zero-width spaces,
// soft hyphens) are left out. The CSV manifest holds the names and addresses exactly as given
// (UTF-8), except that a cell that a spreadsheet would take for a formula is prefixed with "'".
package print

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/worker"
)

// MaxLetters is the largest batch SendBatch accepts (SPEC: at most 5,000 letters a batch).
const MaxLetters = 5000

// DefaultSender is the return address printed on every letter when Config.Sender is empty.
const DefaultSender = "Jack's Mood / Roptrox Oy\nHelatehtaankatu 3 B 29\n00700 HELSINKI"

// ManifestHeader is the CSV manifest's header row, column for column.
var ManifestHeader = []string{"batch_id", "sequence", "external_id", "name", "street", "postal_code", "city", "country", "coupon_code"}

// Config configures a Writer.
type Config struct {
	// Dir is the folder the batches are written to (DISPATCH_PRINT_DIR). Required by New, which
	// creates it (and its parents) when missing; NewRenderer neither needs nor touches it.
	Dir string
	// Sender is the return address, one line per address line. It is printed as the letterhead and,
	// joined with ", ", as a small return line at the foot of the page (never in the envelope
	// window). Default DefaultSender. New refuses a Sender with a character the fonts cannot draw.
	Sender string
}

// withDefaults returns c with its defaults filled in.
func (c Config) withDefaults() Config {
	if strings.TrimSpace(c.Sender) == "" {
		c.Sender = DefaultSender
	}
	return c
}

// Validate reports what is wrong with c: an empty Dir. An empty Sender is valid (the default).
func (c Config) Validate() error {
	if strings.TrimSpace(c.Dir) == "" {
		return errors.New("print: DISPATCH_PRINT_DIR is not set")
	}
	return nil
}

// Renderer draws letters as PDF pages, one letter a page: the code path of print batches
// (Writer.SendBatch) and of letter previews (Render). It is safe for concurrent use.
type Renderer struct {
	sender string
	fonts  *fonts
}

// NewRenderer returns a Renderer printing cfg.Sender (default DefaultSender) as the return address.
// It writes no file: cfg.Dir is not needed and not touched. It fails when the sender has a
// character the fonts cannot draw.
func NewRenderer(cfg Config) (*Renderer, error) {
	cfg = cfg.withDefaults()
	fs, err := loadFonts()
	if err != nil {
		return nil, err
	}
	if _, err := newDocument(fs, cfg.Sender); err != nil {
		return nil, fmt.Errorf("print: %w", err)
	}
	return &Renderer{sender: cfg.Sender, fonts: fs}, nil
}

// draw lays out and draws letters on a new PDF, in the order given, leaving out the letters that
// cannot be printed. It returns the PDF with the letters drawn and those left out, or an error that
// spoils the whole PDF (the context ended, fpdf failed).
func (r *Renderer) draw(ctx context.Context, letters []worker.Letter) (doc *document, printed []worker.Letter, failed []LetterFailure, err error) {
	switch {
	case len(letters) == 0:
		return nil, nil, nil, errors.New("no letters")
	case len(letters) > MaxLetters:
		return nil, nil, nil, fmt.Errorf("%d letters, at most %d allowed", len(letters), MaxLetters)
	}
	doc, err = newDocument(r.fonts, r.sender)
	if err != nil {
		return nil, nil, nil, err
	}
	printed, failed, err = doc.renderPDF(ctx, letters)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("render pdf: %w", err)
	}
	return doc, printed, failed, nil
}

// Render writes letters to out as one PDF, exactly as SendBatch draws a batch's PDF (one A4 page a
// letter, in the order given), and writes no file. A letter that cannot be printed (see
// LetterFailure) is left out: Render then writes the others and returns a *LetterErrors listing it,
// or, when no letter can be printed, writes nothing and returns a *LetterErrors listing them all.
// Other errors: no letters, more than MaxLetters, the context's end, a failure to write to out.
func (r *Renderer) Render(ctx context.Context, out io.Writer, letters []worker.Letter) error {
	doc, printed, failed, err := r.draw(ctx, letters)
	if err != nil {
		return fmt.Errorf("print letters: %w", err)
	}
	if len(printed) == 0 {
		return &LetterErrors{Letters: failed}
	}
	if err := doc.pdf.Output(out); err != nil {
		return fmt.Errorf("print letters: write pdf: %w", err)
	}
	if len(failed) > 0 {
		return &LetterErrors{Letters: failed}
	}
	return nil
}

// Writer writes print batches into one folder; its Render draws letters without writing a file.
// It is safe for concurrent use by several goroutines as long as they write batches of different
// names.
type Writer struct {
	*Renderer
	cfg Config
	log *slog.Logger
}

var _ worker.PrintSender = (*Writer)(nil)

// New returns a Writer for cfg. It creates cfg.Dir when missing and checks that a file can be
// created in it; the error then names DISPATCH_PRINT_DIR. It fails too when cfg.Sender has a
// character the fonts cannot draw. A nil log discards log output.
func New(cfg Config, log *slog.Logger) (*Writer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r, err := NewRenderer(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("print: create DISPATCH_PRINT_DIR %q: %w", cfg.Dir, err)
	}
	probe, err := os.CreateTemp(cfg.Dir, ".probe-")
	if err != nil {
		return nil, fmt.Errorf("print: DISPATCH_PRINT_DIR %q is not writable: %w", cfg.Dir, err)
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	return &Writer{Renderer: r, cfg: cfg, log: log}, nil
}

// LetterFailure is a letter that SendBatch could not print: its delivery, its member, and why, in
// words that quote nothing of the member's name or address.
type LetterFailure struct {
	DeliveryID int64
	MemberID   int64
	// Reason says what stops the letter: a character the fonts cannot draw (and in which field:
	// name, street, ..., title, text, coupon code; with the scripts of the characters, not the
	// characters), an address longer than the window holds, or a text longer than a page.
	Reason string
}

// LetterErrors is the error SendBatch returns when it could not print some letters of a batch.
// The others were written as the batch: Ref names it, as SendBatch's ref does. When no letter could
// be printed, nothing was written (and a batch of that name written before was removed): Ref is "".
// Render returns it too, with Batch and Ref empty.
// Letters lists the failed letters in the order given. Retrying does not help these letters: they
// fail the same way until their data changes.
type LetterErrors struct {
	Batch   string
	Ref     string
	Letters []LetterFailure
}

// Error says how many letters of the batch failed and why, by delivery and member id.
func (e *LetterErrors) Error() string {
	var b strings.Builder
	if e.Batch != "" {
		fmt.Fprintf(&b, "print batch %s: ", e.Batch)
	}
	fmt.Fprintf(&b, "%d %s not printed", len(e.Letters), plural(len(e.Letters), "letter", "letters"))
	for i, f := range e.Letters {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Letters)-i)
			break
		}
		fmt.Fprintf(&b, "; delivery %d (member %d): %s", f.DeliveryID, f.MemberID, f.Reason)
	}
	return b.String()
}

// FailedLetters returns, for each letter that could not be printed, its delivery id and the reason
// to record, naming the member: "member 3: the name has 2 characters the font cannot draw (Han
// script)". It lets the worker, which cannot import this package, read a *LetterErrors through an
// interface of its own: errors.As(err, &x) with x an interface{ FailedLetters() map[int64]string }.
func (e *LetterErrors) FailedLetters() map[int64]string {
	m := make(map[int64]string, len(e.Letters))
	for _, f := range e.Letters {
		m[f.DeliveryID] = fmt.Sprintf("member %d: %s", f.MemberID, f.Reason)
	}
	return m
}

// SendBatch writes the batch name (name.pdf, name.csv, name.sha256) from letters, in the order given,
// replacing a batch of the same name whole. It returns ref = "name.pdf".
//
// A letter that cannot be printed (see LetterFailure) is left out of the batch, and the others are
// written: SendBatch then returns ref and a *LetterErrors listing the letters left out. When no
// letter can be printed, it writes nothing, removes a batch of that name written before, and
// returns "" and a *LetterErrors listing them all.
//
// Any other error fails the whole batch, and then the folder holds what it held before (apart from
// the removed old name.sha256 when the failure came while renaming): an empty batch, more than
// MaxLetters letters, a name that is not a plain file name ([A-Za-z0-9._-], not starting with '.'),
// the context's end, a failure to write.
func (w *Writer) SendBatch(ctx context.Context, name string, letters []worker.Letter) (string, error) {
	start := time.Now()
	if err := validName(name); err != nil {
		return "", err
	}
	doc, printed, failed, err := w.draw(ctx, letters)
	if err != nil {
		return "", fmt.Errorf("print batch %s: %w", name, err)
	}
	pdfName, csvName, sumName := name+".pdf", name+".csv", name+".sha256"
	if len(printed) == 0 {
		// Nothing to print: take away a batch of that name written before, checksum file first.
		for _, f := range []string{sumName, pdfName, csvName} {
			if err := os.Remove(filepath.Join(w.cfg.Dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("print batch %s: remove old %s: %w", name, f, err)
			}
		}
		w.log.Warn("print batch: no letter could be printed",
			slog.String("batch", name),
			slog.Int("letters_failed", len(failed)))
		return "", &LetterErrors{Batch: name, Letters: failed}
	}

	tmp, err := os.MkdirTemp(w.cfg.Dir, ".tmp-"+name+"-*")
	if err != nil {
		return "", fmt.Errorf("print batch %s: create temporary folder in DISPATCH_PRINT_DIR: %w", name, err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	pdfSum, pdfSize, err := writeFile(filepath.Join(tmp, pdfName), doc.pdf.Output)
	if err != nil {
		return "", fmt.Errorf("print batch %s: write pdf: %w", name, err)
	}
	csvSum, _, err := writeFile(filepath.Join(tmp, csvName), func(out io.Writer) error {
		return writeManifest(out, name, printed)
	})
	if err != nil {
		return "", fmt.Errorf("print batch %s: write manifest: %w", name, err)
	}
	_, _, err = writeFile(filepath.Join(tmp, sumName), func(out io.Writer) error {
		_, err := fmt.Fprintf(out, "%s  %s\n%s  %s\n", pdfSum, pdfName, csvSum, csvName)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("print batch %s: write checksums: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("print batch %s: %w", name, err)
	}

	// The checksum file marks a complete batch: take the old one away before the pdf and csv are
	// replaced, and put the new one in place last.
	if err := os.Remove(filepath.Join(w.cfg.Dir, sumName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("print batch %s: remove old checksum file: %w", name, err)
	}
	for _, f := range []string{pdfName, csvName, sumName} {
		if err := os.Rename(filepath.Join(tmp, f), filepath.Join(w.cfg.Dir, f)); err != nil {
			return "", fmt.Errorf("print batch %s: move %s into place: %w", name, f, err)
		}
	}
	if err := syncDir(w.cfg.Dir); err != nil {
		return "", fmt.Errorf("print batch %s: sync DISPATCH_PRINT_DIR: %w", name, err)
	}
	w.log.Info("print batch written",
		slog.String("batch", name),
		slog.Int("letters", len(printed)),
		slog.Int("letters_failed", len(failed)),
		slog.Int64("pdf_bytes", pdfSize),
		slog.Duration("took", time.Since(start)))
	if len(failed) > 0 {
		return pdfName, &LetterErrors{Batch: name, Ref: pdfName, Letters: failed}
	}
	return pdfName, nil
}

// validName checks that name can be used as a file name as it is.
func validName(name string) error {
	if name == "" || len(name) > 200 || name[0] == '.' {
		return fmt.Errorf("print batch name %q: want 1 to 200 characters of [A-Za-z0-9._-], not starting with '.'", name)
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return fmt.Errorf("print batch name %q: character %q not allowed (want [A-Za-z0-9._-])", name, r)
		}
	}
	return nil
}

// writeFile creates path, fills it with fill, syncs and closes it, and returns the SHA-256 of what
// was written (hex) and its size.
func writeFile(path string, fill func(io.Writer) error) (sum string, size int64, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, h)}
	if err := fill(cw); err != nil {
		return "", 0, err
	}
	if err := f.Sync(); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), cw.n, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// syncDir fsyncs a folder so that renames in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}

// writeManifest writes the CSV manifest: ManifestHeader, then one row a letter, sequence 1..n.
// Names and addresses are written as given (UTF-8), each cell through spreadsheetSafe.
func writeManifest(out io.Writer, batch string, letters []worker.Letter) error {
	cw := csv.NewWriter(out)
	if err := cw.Write(ManifestHeader); err != nil {
		return err
	}
	for i, l := range letters {
		m := l.Member
		row := []string{
			batch, strconv.Itoa(i + 1), m.ExternalID, fullName(m.FirstName, m.LastName),
			m.Street, m.PostalCode, m.City, m.Country, l.CouponCode,
		}
		for i := range row {
			row[i] = spreadsheetSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// spreadsheetSafe returns cell prefixed with a single quote when it starts with a character that
// makes a spreadsheet read it as a formula (= + - @, tab, carriage return: OWASP's CSV injection
// advice), so that a name like "=HYPERLINK(...)" opens as text; any other cell as it is.
func spreadsheetSafe(cell string) string {
	if cell != "" && strings.IndexByte("=+-@\t\r", cell[0]) >= 0 {
		return "'" + cell
	}
	return cell
}

// fullName joins first and last name with one space, trimming either when empty.
func fullName(first, last string) string {
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}
