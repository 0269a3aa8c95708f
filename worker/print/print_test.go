package print

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"golang.org/x/image/font/gofont/goregular"
)

// sampleLetters returns three letters deliberately NOT in postal-code order, so that the tests see
// any reordering: a Swedish-speaking member in Vaasa, a Finnish one in Helsinki, and one abroad with
// a coupon and a name with characters outside cp1252.
func sampleLetters() []worker.Letter {
	return []worker.Letter{
		{
			DeliveryID: 11,
			Member: campaigns.Member{
				ID: 1, ExternalID: "M-0001", FirstName: "Åsa", LastName: "Öhrnbäck",
				Street: "Östra Långgatan 7 B", PostalCode: "65100", City: "Vasa", Country: "FI",
				Language: campaigns.Swedish, Email: "asa@example.com", Phone: "+358401111111",
			},
			Content: templates.Message{
				Title: "Välkommen tillbaka till vårens nyheter",
				Text:  "Hej Åsa!\n\nVåra nya kläder har kommit till butiken.\n\nVänliga hälsningar,\nJack's Mood",
			},
		},
		{
			DeliveryID: 12,
			Member: campaigns.Member{
				ID: 2, ExternalID: "M-0002", FirstName: "Matti", LastName: "Virtanen",
				Street: "Mannerheimintie 12 A 3", PostalCode: "00100", City: "Helsinki", Country: "FI",
				Language: campaigns.Finnish, Email: "matti@example.com", Phone: "+358402222222",
			},
			Content: templates.Message{
				Title: "Hyvää kevättä jäsenillemme",
				Text:  "Hei Matti!\n\nKevään mallisto on nyt myymälöissä.\n\n\nTervetuloa ostoksille!",
			},
		},
		{
			DeliveryID: 13,
			Member: campaigns.Member{
				ID: 3, ExternalID: "M-0003", FirstName: "Élise", LastName: "Dvořák",
				Street: "Drottninggatan 21", PostalCode: "11151", City: "Stockholm", Country: "SE",
				Language: campaigns.English, Email: "elise@example.com", Phone: "+46701234567",
			},
			Content: templates.Message{
				Title: "Your spring coupon",
				Text:  "Dear Élise,\n\nHere is a 20 % discount for your next visit.",
			},
			CouponCode: "KEVAT-7Q2X9",
		},
	}
}

// needTool fails the test when a poppler or coreutils tool is missing.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found (apt-get install -y poppler-utils coreutils): %v", name, err)
	}
}

// run runs a command and returns its standard output; it fails the test on a non-zero exit.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// newWriter returns a Writer on a fresh folder.
func newWriter(t *testing.T) (*Writer, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "print")
	w, err := New(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w, dir
}

// word is one word of pdftotext -bbox output, in points from the page's top left corner.
type word struct {
	text                   string
	xMin, yMin, xMax, yMax float64
}

var wordRE = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)

// pageWords returns the words of page n of pdf with their boxes.
func pageWords(t *testing.T, pdf string, n int) []word {
	t.Helper()
	out := run(t, "", "pdftotext", "-bbox", "-f", strconv.Itoa(n), "-l", strconv.Itoa(n), pdf, "-")
	var words []word
	for _, m := range wordRE.FindAllStringSubmatch(out, -1) {
		w := word{text: html.UnescapeString(m[5])}
		for i, p := range []*float64{&w.xMin, &w.yMin, &w.xMax, &w.yMax} {
			v, err := strconv.ParseFloat(m[i+1], 64)
			if err != nil {
				t.Fatal(err)
			}
			*p = v
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		t.Fatalf("page %d: pdftotext -bbox found no words:\n%s", n, out)
	}
	return words
}

func TestSendBatchPDF(t *testing.T) {
	needTool(t, "pdfinfo")
	needTool(t, "pdftotext")
	w, dir := newWriter(t)
	letters := sampleLetters()
	ref, err := w.SendBatch(context.Background(), "run7-batch1", letters)
	if err != nil {
		t.Fatal(err)
	}
	if ref != "run7-batch1.pdf" {
		t.Fatalf("ref = %q, want run7-batch1.pdf", ref)
	}
	pdf := filepath.Join(dir, ref)

	info := run(t, "", "pdfinfo", pdf)
	if !regexp.MustCompile(`(?m)^Pages:\s+3$`).MatchString(info) {
		t.Errorf("pdfinfo: want 3 pages:\n%s", info)
	}
	size := regexp.MustCompile(`(?m)^Page size:\s+([\d.]+) x ([\d.]+) pts`).FindStringSubmatch(info)
	if size == nil {
		t.Fatalf("pdfinfo: no page size:\n%s", info)
	}
	pw, _ := strconv.ParseFloat(size[1], 64)
	ph, _ := strconv.ParseFloat(size[2], 64)
	if pw < 594.5 || pw > 596 || ph < 841.5 || ph > 842.5 {
		t.Errorf("page size %s x %s pts, want A4 portrait 595 x 842", size[1], size[2])
	}

	// What each page shows: names as written, the post town in capitals.
	for i, l := range letters {
		page := i + 1
		text := run(t, "", "pdftotext", "-layout", "-f", strconv.Itoa(page), "-l", strconv.Itoa(page), pdf, "-")
		m := l.Member
		want := []string{fullName(m.FirstName, m.LastName), m.Street, m.PostalCode + " " + strings.ToUpper(m.City), l.Content.Title}
		if l.CouponCode != "" {
			want = append(want, l.CouponCode)
		}
		for _, s := range want {
			if !strings.Contains(text, s) {
				t.Errorf("page %d does not contain %q:\n%s", page, s, text)
			}
		}
		for j, other := range letters {
			if j != i && strings.Contains(text, other.Member.LastName) {
				t.Errorf("page %d contains letter %d's name:\n%s", page, j+1, text)
			}
		}
		// Rule 7: nothing else about the member.
		for _, s := range []string{m.ExternalID, m.Email, m.Phone} {
			if strings.Contains(text, s) {
				t.Errorf("page %d shows %q, which the letter does not need", page, s)
			}
		}
		if l.Member.Country == "SE" && !strings.Contains(text, "SWEDEN") {
			t.Errorf("page %d: foreign address lacks its country line:\n%s", page, text)
		}
		if l.Member.Country == "FI" && strings.Contains(text, "FINLAND") {
			t.Errorf("page %d: domestic address has a country line", page)
		}

		// The address words lie in the right window: x >= 300 pt (window from 110 mm = 312 pt),
		// y between 120 and 260 pt (window 45..90 mm = 128..255 pt). TestSendBatchWindow is exact.
		words := pageWords(t, pdf, page)
		addr := strings.Fields(fullName(m.FirstName, m.LastName) + " " + m.Street + " " + m.PostalCode + " " + strings.ToUpper(m.City))
		for _, a := range addr {
			idx := slices.IndexFunc(words, func(w word) bool {
				return w.text == a && w.xMin >= 300 && w.yMin >= 120 && w.yMin <= 260 && w.yMax <= 260
			})
			if idx < 0 {
				var at []string
				for _, w := range words {
					if w.text == a {
						at = append(at, fmt.Sprintf("(%.0f,%.0f)", w.xMin, w.yMin))
					}
				}
				t.Errorf("page %d: address word %q not in the window; found at %v", page, a, at)
			}
		}
		// The title is below the window, left-aligned.
		title := strings.Fields(l.Content.Title)[0]
		if idx := slices.IndexFunc(words, func(w word) bool { return w.text == title }); idx < 0 || words[idx].yMin < 270 || words[idx].xMin > 100 {
			t.Errorf("page %d: title word %q not below the window at the left", page, title)
		}
	}
}

func TestSendBatchManifest(t *testing.T) {
	w, dir := newWriter(t)
	letters := sampleLetters()
	if _, err := w.SendBatch(context.Background(), "b2", letters); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "b2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"batch_id", "sequence", "external_id", "name", "street", "postal_code", "city", "country", "coupon_code"}
	if len(rows) == 0 || !slices.Equal(rows[0], wantHeader) {
		t.Fatalf("header = %q, want %q", rows[0], wantHeader)
	}
	if len(rows) != 4 {
		t.Fatalf("%d data rows, want 3", len(rows)-1)
	}
	want := [][]string{
		{"b2", "1", "M-0001", "Åsa Öhrnbäck", "Östra Långgatan 7 B", "65100", "Vasa", "FI", ""},
		{"b2", "2", "M-0002", "Matti Virtanen", "Mannerheimintie 12 A 3", "00100", "Helsinki", "FI", ""},
		{"b2", "3", "M-0003", "Élise Dvořák", "Drottninggatan 21", "11151", "Stockholm", "SE", "KEVAT-7Q2X9"},
	}
	for i, row := range rows[1:] {
		if !slices.Equal(row, want[i]) {
			t.Errorf("row %d = %q, want %q", i+1, row, want[i])
		}
	}
}

func TestSendBatchChecksums(t *testing.T) {
	needTool(t, "sha256sum")
	w, dir := newWriter(t)
	if _, err := w.SendBatch(context.Background(), "b3", sampleLetters()); err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(dir, "b3.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}  b3\.pdf\n[0-9a-f]{64}  b3\.csv\n$`).Match(sums) {
		t.Errorf("b3.sha256 is not in sha256sum's format:\n%s", sums)
	}
	run(t, dir, "sha256sum", "-c", "b3.sha256")

	pdf := filepath.Join(dir, "b3.pdf")
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(pdf, b, 0o640); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sha256sum", "-c", "b3.sha256")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("sha256sum -c passed on an altered pdf:\n%s", out)
	}
}

func TestSendBatchReplaces(t *testing.T) {
	needTool(t, "pdfinfo")
	w, dir := newWriter(t)
	ctx := context.Background()
	if _, err := w.SendBatch(ctx, "b4", sampleLetters()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SendBatch(ctx, "other", sampleLetters()[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SendBatch(ctx, "b4", sampleLetters()[1:]); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"b4.csv", "b4.pdf", "b4.sha256", "other.csv", "other.pdf", "other.sha256"}
	if !slices.Equal(names, want) {
		t.Fatalf("folder holds %q, want %q (no temporary folder)", names, want)
	}
	if info := run(t, "", "pdfinfo", filepath.Join(dir, "b4.pdf")); !regexp.MustCompile(`(?m)^Pages:\s+2$`).MatchString(info) {
		t.Errorf("rewritten b4.pdf: want 2 pages:\n%s", info)
	}
	csvData, err := os.ReadFile(filepath.Join(dir, "b4.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(csvData), "\n"); n != 3 || strings.Contains(string(csvData), "M-0001") {
		t.Errorf("rewritten b4.csv has %d lines or the old rows:\n%s", n, csvData)
	}
	run(t, dir, "sha256sum", "-c", "b4.sha256")
}

func TestSendBatchRefuses(t *testing.T) {
	w, dir := newWriter(t)
	ctx := context.Background()
	many := make([]worker.Letter, MaxLetters+1)
	for i := range many {
		many[i] = sampleLetters()[i%3]
	}
	if _, err := w.SendBatch(ctx, "toomany", many); err == nil || !strings.Contains(err.Error(), "5001") {
		t.Errorf("5,001 letters: err = %v, want a refusal", err)
	}
	if _, err := w.SendBatch(ctx, "none", nil); err == nil {
		t.Error("0 letters accepted")
	}
	for _, name := range []string{"", "../escape", "a/b", ".hidden", "bad name"} {
		if _, err := w.SendBatch(ctx, name, sampleLetters()); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	long := sampleLetters()[:1]
	long[0].Content.Text = strings.Repeat("Tämä kirje on aivan liian pitkä yhdelle sivulle. ", 600)
	var le *LetterErrors
	if _, err := w.SendBatch(ctx, "long", long); !errors.As(err, &le) || !strings.Contains(err.Error(), "delivery 11") || !strings.Contains(err.Error(), "does not fit on one page") {
		t.Errorf("a letter longer than a page: err = %v, want a *LetterErrors naming the delivery", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.SendBatch(cancelled, "cancelled", sampleLetters()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused batches left %d entries behind", len(entries))
	}
}

func TestSendBatchShrinksLongLetter(t *testing.T) {
	needTool(t, "pdfinfo")
	w, dir := newWriter(t)
	l := sampleLetters()[2:]
	// Too long for 11 pt above the coupon block, short enough for a smaller size.
	l[0].Content.Text = strings.Repeat("Tervetuloa ostoksille kevään uutuuksien pariin, etu on voimassa kuun loppuun. ", 28)
	if _, err := w.SendBatch(context.Background(), "shrunk", l); err != nil {
		t.Fatal(err)
	}
	if info := run(t, "", "pdfinfo", filepath.Join(dir, "shrunk.pdf")); !regexp.MustCompile(`(?m)^Pages:\s+1$`).MatchString(info) {
		t.Errorf("a long letter spilled over its page:\n%s", info)
	}
}

func TestNewDirErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", filepath.Join(file, "sub")} {
		if _, err := New(Config{Dir: dir}, nil); err == nil || !strings.Contains(err.Error(), "DISPATCH_PRINT_DIR") {
			t.Errorf("Dir %q: err = %v, want an error naming DISPATCH_PRINT_DIR", dir, err)
		}
	}
	// A sender the fonts cannot draw would fail every letter: New refuses it.
	if _, err := New(Config{Dir: t.TempDir(), Sender: "王 Oy\nKatu 1"}, nil); err == nil || !strings.Contains(err.Error(), "sender address") {
		t.Errorf("undrawable sender: err = %v, want a refusal naming the sender address", err)
	}
}

func BenchmarkSendBatch5000(b *testing.B) {
	dir := b.TempDir()
	w, err := New(Config{Dir: dir}, nil)
	if err != nil {
		b.Fatal(err)
	}
	letters := make([]worker.Letter, MaxLetters)
	for i := range letters {
		letters[i] = sampleLetters()[i%3]
		letters[i].CouponCode = fmt.Sprintf("C%09d", i)
	}
	for b.Loop() {
		if _, err := w.SendBatch(context.Background(), "bench", letters); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	info, err := os.Stat(filepath.Join(dir, "bench.pdf"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(info.Size()), "pdf_bytes")
}

// letterFor returns a short letter to member id with the given name and address in Finland.
func letterFor(delivery, id int64, first, last, street, postalCode, city string) worker.Letter {
	return worker.Letter{
		DeliveryID: delivery,
		Member: campaigns.Member{
			ID: id, ExternalID: fmt.Sprintf("M-%04d", id), FirstName: first, LastName: last,
			Street: street, PostalCode: postalCode, City: city, Country: "FI", Language: campaigns.Finnish,
		},
		Content: templates.Message{Title: "Kevään uutuudet", Text: "Hei!\n\nTervetuloa ostoksille."},
	}
}

// pages returns the number of pages of pdf.
func pages(t *testing.T, pdf string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(run(t, "", "pdfinfo", pdf))
	if m == nil {
		t.Fatalf("pdfinfo %s: no page count", pdf)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// manifestRows returns the data rows of a manifest.
func manifestRows(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], ManifestHeader) {
		t.Fatalf("%s: no header row", path)
	}
	return rows[1:]
}

// The fonts are embedded, no core font is used, and every European, Greek and Cyrillic name
// prints as written: pdftotext gives it back exactly.
func TestSendBatchEmbedsUnicodeFonts(t *testing.T) {
	needTool(t, "pdffonts")
	needTool(t, "pdftotext")
	w, dir := newWriter(t)
	names := [][2]string{
		{"Иван", "Петров"},
		{"Łukasz", "Żółćński"},
		{"Åsa", "Ärölä"},
		{"Γιώργος", "Παπαδόπουλος"},
		{"Ștefan", "Dvořák-Őrsi"},
	}
	var letters []worker.Letter
	for i, n := range names {
		l := letterFor(int64(100+i), int64(i+1), n[0], n[1], "Testikatu 1", "00100", "Helsinki")
		l.Content.Title = "Hyvä " + n[0]
		letters = append(letters, l)
	}
	letters[0].CouponCode = "KEVAT-7Q2X9"
	// Decomposed input (A + combining ring) prints as the composed letter.
	decomposed := letterFor(200, 9, "A\u030asa", "O\u0308berg", "Testikatu 1", "00100", "Helsinki")
	letters = append(letters, decomposed)
	if _, err := w.SendBatch(context.Background(), "fonts", letters); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "fonts.pdf")

	out := run(t, "", "pdffonts", pdf)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 {
		t.Fatalf("pdffonts lists no font:\n%s", out)
	}
	// Columns: name type... encoding emb sub uni object ID. The type may have spaces: read emb from the right.
	for _, line := range lines[2:] {
		f := strings.Fields(line)
		if len(f) < 7 || f[len(f)-5] != "yes" {
			t.Errorf("font not embedded: %q", line)
		}
		if n := strings.ToLower(f[0]); strings.Contains(n, "helvetica") || strings.Contains(n, "courier") {
			t.Errorf("core font used: %q", line)
		}
	}
	if len(lines)-2 != 3 {
		t.Errorf("want 3 fonts (regular, bold, mono bold):\n%s", out)
	}

	for i, n := range names {
		text := run(t, "", "pdftotext", "-f", strconv.Itoa(i+1), "-l", strconv.Itoa(i+1), pdf, "-")
		for _, want := range []string{n[0] + " " + n[1], "Hyvä " + n[0], "00100 HELSINKI"} {
			if !strings.Contains(text, want) {
				t.Errorf("page %d does not show %q:\n%s", i+1, want, text)
			}
		}
		if strings.Contains(text, "?") {
			t.Errorf("page %d has a '?':\n%s", i+1, text)
		}
	}
	if text := run(t, "", "pdftotext", "-f", "1", "-l", "1", pdf, "-"); !strings.Contains(text, "KEVAT-7Q2X9") {
		t.Errorf("coupon code missing:\n%s", text)
	}
	if text := run(t, "", "pdftotext", "-f", "6", "-l", "6", pdf, "-"); !strings.Contains(text, "Åsa Öberg") {
		t.Errorf("decomposed name not printed composed:\n%s", text)
	}
}

// Posti: the post town in capitals, Unicode-aware.
func TestSendBatchPostTownInCapitals(t *testing.T) {
	needTool(t, "pdftotext")
	w, dir := newWriter(t)
	letters := []worker.Letter{
		letterFor(1, 1, "Matti", "Virtanen", "Tapiontori 1", "02100", "Espoo"),
		letterFor(2, 2, "Liisa", "Laine", "Asematie 3", "04600", "Mäntsälä"),
		letterFor(3, 3, "Åke", "Öst", "Storgatan 2", "22100", "mariehamn"),
	}
	if _, err := w.SendBatch(context.Background(), "towns", letters); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "towns.pdf")
	for i, want := range []string{"02100 ESPOO", "04600 MÄNTSÄLÄ", "22100 MARIEHAMN"} {
		text := run(t, "", "pdftotext", "-f", strconv.Itoa(i+1), "-l", strconv.Itoa(i+1), pdf, "-")
		if !strings.Contains(text, want) {
			t.Errorf("page %d does not show %q:\n%s", i+1, want, text)
		}
	}
	// The manifest keeps the register's spelling.
	if rows := manifestRows(t, filepath.Join(dir, "towns.csv")); rows[1][6] != "Mäntsälä" {
		t.Errorf("manifest city = %q, want the register's Mäntsälä", rows[1][6])
	}
}

// mmToPt converts millimetres to points.
func mmToPt(mm float64) float64 { return mm * 72 / 25.4 }

// Posti: nothing but the recipient's address in the envelope window. Each address word lies in the
// window however the sheet slides (windowPlay); every other word, the sender's return line among
// them, lies more than windowPlay away from it.
func TestSendBatchWindow(t *testing.T) {
	needTool(t, "pdftotext")
	w, dir := newWriter(t)
	letters := sampleLetters()
	// Seven address rows, the most the window holds: name, three street lines and a fourth too
	// wide for the window (two rows), town.
	letters = append(letters, letterFor(14, 4, "Seven", "Rows", "c/o Firma Oy\nPL 123\nRakennus B\nPohjoisesplanadin ja Mannerheimintien kulma, sisäpiha", "00100", "Helsinki"))
	if _, err := w.SendBatch(context.Background(), "window", letters); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "window.pdf")
	// The window with the sheet's play: what lies in inner is in the window wherever the sheet
	// slides; what lies outside outer is never in it.
	inner := [4]float64{mmToPt(windowLeft + windowPlay), mmToPt(windowTop + windowPlay), mmToPt(windowRight - windowPlay), mmToPt(windowBottom - windowPlay)}
	outer := [4]float64{mmToPt(windowLeft - windowPlay), mmToPt(windowTop - windowPlay), mmToPt(windowRight + windowPlay), mmToPt(windowBottom + windowPlay)}
	const slack = 0.5 // pt, for rounding in the PDF and in pdftotext
	sender := strings.Fields(strings.Join(splitLines(DefaultSender), ", "))
	for i, l := range letters {
		page := i + 1
		var addr []string
		for _, f := range addressFields(l.Member) {
			for _, line := range f.lines {
				addr = append(addr, strings.Fields(line)...)
			}
		}
		words := pageWords(t, pdf, page)
		var inWindow []string
		returnLineY := -1.0
		for _, w := range words {
			intersects := w.xMax > outer[0] && w.xMin < outer[2] && w.yMax > outer[1] && w.yMin < outer[3]
			inside := w.xMin >= inner[0]-slack && w.xMax <= inner[2]+slack && w.yMin >= inner[1]-slack && w.yMax <= inner[3]+slack
			if intersects {
				inWindow = append(inWindow, w.text)
				if !inside {
					t.Errorf("page %d: %q at (%.1f,%.1f)-(%.1f,%.1f) pt is near the window's edge, not inside it", page, w.text, w.xMin, w.yMin, w.xMax, w.yMax)
				}
			}
			// The return line: the sender's words on one line at the foot of the page.
			if w.text == "Helatehtaankatu" && w.yMin > mmToPt(bodyBottom) {
				returnLineY = w.yMin
			}
		}
		if !slices.Equal(inWindow, addr) {
			t.Errorf("page %d: the window shows %q, want the address alone %q", page, inWindow, addr)
		}
		if returnLineY < 0 {
			t.Errorf("page %d: no return line at the foot of the page", page)
			continue
		}
		var rl []string
		for _, w := range words {
			if w.yMin == returnLineY {
				rl = append(rl, w.text)
			}
		}
		if !slices.Equal(rl, sender) {
			t.Errorf("page %d: return line = %q, want %q", page, rl, sender)
		}
	}
}

// A letter that cannot be printed fails alone: the others are written, and the failure names its
// delivery and member, never the member's name or address.
func TestSendBatchFailsLetterAlone(t *testing.T) {
	needTool(t, "pdfinfo")
	needTool(t, "pdftotext")
	needTool(t, "sha256sum")
	tooLong := letterFor(22, 2, "Pekka", "Pitkäosoite", "Rivi 1\nRivi 2\nRivi 3\nRivi 4\nRivi 5\nRivi 6", "00100", "Helsinki")
	for _, tc := range []struct {
		name    string
		bad     worker.Letter
		reason  string   // what the reason must say
		private []string // what it must not
	}{
		{"address too long", tooLong, "member 2: the address needs 8 lines in the envelope window, at most 7 fit", []string{"Pekka", "Pitkäosoite", "Rivi"}},
		{"han name", letterFor(22, 2, "王", "小明", "Keskuskatu 1", "00100", "Helsinki"), "member 2: the name has 3 characters the font cannot draw (Han script)", []string{"王", "小明", "Keskuskatu"}},
		{"emoji street", letterFor(22, 2, "Emmi", "Emoji", "Kukkatie 😀 2", "00100", "Helsinki"), "member 2: the street has 1 character the font cannot draw (symbols)", []string{"Emmi", "Kukkatie", "😀"}},
		{"arabic town", letterFor(22, 2, "Ali", "Hassan", "Katu 1", "00100", "دبي"), "member 2: the postal code or post town has 3 characters the font cannot draw (Arabic script)", []string{"Ali", "Hassan", "دبي"}},
		{"cjk in title", func() worker.Letter {
			l := letterFor(22, 2, "Tiina", "Teksti", "Katu 1", "00100", "Helsinki")
			l.Content.Title = "Tarjous 王"
			return l
		}(), "member 2: the title has 1 character the font cannot draw (Han script)", []string{"Tiina"}},
		{"invalid utf-8", letterFor(22, 2, "Bad\xff", "Bytes", "Katu 1", "00100", "Helsinki"), "member 2: the name has 1 character the font cannot draw (invalid UTF-8)", []string{"Bad"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, dir := newWriter(t)
			letters := []worker.Letter{
				letterFor(21, 1, "Åsa", "Ärölä", "Keskuskatu 1", "00100", "Helsinki"),
				tc.bad,
				letterFor(23, 3, "Иван", "Петров", "Keskuskatu 3", "00100", "Helsinki"),
			}
			ref, err := w.SendBatch(context.Background(), "partial", letters)
			if ref != "partial.pdf" {
				t.Errorf("ref = %q, want partial.pdf", ref)
			}
			var le *LetterErrors
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LetterErrors", err)
			}
			want := []LetterFailure{{DeliveryID: 22, MemberID: 2, Reason: strings.TrimPrefix(tc.reason, "member 2: ")}}
			if le.Batch != "partial" || le.Ref != "partial.pdf" || !slices.Equal(le.Letters, want) {
				t.Errorf("LetterErrors = %+v, want batch partial, ref partial.pdf, letters %+v", le, want)
			}
			// The worker reads it through an interface of its own.
			var failures interface{ FailedLetters() map[int64]string }
			if !errors.As(err, &failures) {
				t.Fatal("err does not offer FailedLetters")
			}
			if got := failures.FailedLetters(); len(got) != 1 || got[22] != tc.reason {
				t.Errorf("FailedLetters() = %v, want {22: %q}", got, tc.reason)
			}
			for _, s := range tc.private {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q quotes the member's %q", err, s)
				}
			}
			if !strings.Contains(err.Error(), "delivery 22 (member 2)") {
				t.Errorf("error %q does not name the delivery and member", err)
			}

			pdf := filepath.Join(dir, "partial.pdf")
			if n := pages(t, pdf); n != 2 {
				t.Errorf("%d pages, want 2", n)
			}
			for page, name := range []string{"Åsa Ärölä", "Иван Петров"} {
				if text := run(t, "", "pdftotext", "-f", strconv.Itoa(page+1), "-l", strconv.Itoa(page+1), pdf, "-"); !strings.Contains(text, name) {
					t.Errorf("page %d does not show %q:\n%s", page+1, name, text)
				}
			}
			rows := manifestRows(t, filepath.Join(dir, "partial.csv"))
			if len(rows) != 2 || rows[0][1] != "1" || rows[0][2] != "M-0001" || rows[1][1] != "2" || rows[1][2] != "M-0003" {
				t.Errorf("manifest rows = %q, want M-0001 as 1 and M-0003 as 2", rows)
			}
			run(t, dir, "sha256sum", "-c", "partial.sha256")
		})
	}
}

// When no letter can be printed nothing is written, and a batch of that name written before is
// taken away (it would print letters the ledger records as failed).
func TestSendBatchAllLettersFail(t *testing.T) {
	w, dir := newWriter(t)
	ctx := context.Background()
	if _, err := w.SendBatch(ctx, "b5", sampleLetters()); err != nil {
		t.Fatal(err)
	}
	bad := []worker.Letter{
		letterFor(31, 1, "王", "小明", "Katu 1", "00100", "Helsinki"),
		letterFor(32, 2, "Emmi", "😀", "Katu 2", "00100", "Helsinki"),
	}
	ref, err := w.SendBatch(ctx, "b5", bad)
	var le *LetterErrors
	if ref != "" || !errors.As(err, &le) || le.Ref != "" || len(le.Letters) != 2 || le.Letters[0].DeliveryID != 31 || le.Letters[1].DeliveryID != 32 {
		t.Fatalf("ref %q, err %v: want no ref and both letters failed", ref, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("folder holds %d entries, want none", len(entries))
	}
}

// Invisible characters are dropped, spaces made plain; what the font cannot draw is reported.
func TestFaceText(t *testing.T) {
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want, err string }{
		{"Hyvää päivää, Åsa – é ü € ß", "Hyvää päivää, Åsa – é ü € ß", ""},
		{"Dvořák Łukasz Ștefan Γιώργος Иван", "Dvořák Łukasz Ștefan Γιώργος Иван", ""},
		{"A\u030asa", "Åsa", ""},                                       // composed
		{"Zero\u200bwidth\u00adsoft\ufeff\u200d", "Zerowidthsoft", ""}, // invisible
		{"tab\tcr\rnl\nbell\x07", "tab cr nl bell", ""},
		{"Иван 李 😀", "", "2 characters the font cannot draw (Han script, symbols)"},
		{"\U0001F600\uFE0F", "", "1 character the font cannot draw (symbols)"},
	} {
		got, err := fs.regular.text(tc.in, false)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("text(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
	if got, err := fs.regular.text("one\ntwo", true); got != "one\ntwo" || err != nil {
		t.Errorf("multiline text = %q, %v", got, err)
	}
}

// The manifest neutralises spreadsheet formulas (OWASP CSV injection), while the PDF prints the
// names as given.
func TestManifestFormulaInjection(t *testing.T) {
	needTool(t, "pdftotext")
	w, dir := newWriter(t)
	evil := []struct{ first, last, street, city string }{
		{`=HYPERLINK("http://x.test","y")`, "Doe", "Katu 1", "Helsinki"},
		{"-2+3+cmd|' /C calc'!A0", "Roe", "Katu 2", "Espoo"},
		{"+358", "Plus", "@SUM(1+1)", "Vantaa"},
		{"Tab", "Cr", "\tKatu 4", "=1+1"},
	}
	var letters []worker.Letter
	for i, e := range evil {
		letters = append(letters, letterFor(int64(40+i), int64(i+1), e.first, e.last, e.street, "00100", e.city))
	}
	letters[3].Member.PostalCode = "\r00100"
	if _, err := w.SendBatch(context.Background(), "csv", letters); err != nil {
		t.Fatal(err)
	}
	rows := manifestRows(t, filepath.Join(dir, "csv.csv"))
	want := [][]string{
		{"csv", "1", "M-0001", `'=HYPERLINK("http://x.test","y") Doe`, "Katu 1", "00100", "Helsinki", "FI", ""},
		{"csv", "2", "M-0002", "'-2+3+cmd|' /C calc'!A0 Roe", "Katu 2", "00100", "Espoo", "FI", ""},
		{"csv", "3", "M-0003", "'+358 Plus", "'@SUM(1+1)", "00100", "Vantaa", "FI", ""},
		{"csv", "4", "M-0004", "Tab Cr", "'\tKatu 4", "'\r00100", "'=1+1", "FI", ""},
	}
	for i := range want {
		if i >= len(rows) || !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d = %q, want %q", i+1, rows[i], want[i])
		}
	}
	pdf := filepath.Join(dir, "csv.pdf")
	for i, s := range []string{`=HYPERLINK("http://x.test","y") Doe`, "-2+3+cmd|' /C calc'!A0 Roe", "@SUM(1+1)", "00100 =1+1"} {
		if text := run(t, "", "pdftotext", "-f", strconv.Itoa(i+1), "-l", strconv.Itoa(i+1), pdf, "-"); !strings.Contains(text, s) {
			t.Errorf("page %d does not show %q as given:\n%s", i+1, s, text)
		}
	}
}

// Render draws what SendBatch draws, into any writer, and touches no folder: not even the Dir its
// Config names.
func TestRenderWritesThePDFAlone(t *testing.T) {
	t.Parallel()
	needTool(t, "pdfinfo")
	needTool(t, "pdftotext")
	dir := filepath.Join(t.TempDir(), "never-made")
	r, err := NewRenderer(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	letters := sampleLetters()
	var out bytes.Buffer
	if err := r.Render(context.Background(), &out, letters); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Render touched %s: %v", dir, err)
	}
	pdf := filepath.Join(t.TempDir(), "rendered.pdf")
	if err := os.WriteFile(pdf, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := pages(t, pdf); n != len(letters) {
		t.Fatalf("%d pages, want %d", n, len(letters))
	}
	// The same pages as the batch's PDF: same words at the same places.
	w, batchDir := newWriter(t)
	if _, err := w.SendBatch(context.Background(), "same", letters); err != nil {
		t.Fatal(err)
	}
	for page := 1; page <= len(letters); page++ {
		got, want := pageWords(t, pdf, page), pageWords(t, filepath.Join(batchDir, "same.pdf"), page)
		if !slices.Equal(got, want) {
			t.Errorf("page %d differs from the batch's:\n got %v\nwant %v", page, got, want)
		}
	}

	// A letter that cannot be printed is left out and reported, without a batch's name.
	out.Reset()
	bad := letterFor(22, 2, "王", "小明", "Keskuskatu 1", "00100", "Helsinki")
	err = r.Render(context.Background(), &out, []worker.Letter{letters[0], bad})
	var le *LetterErrors
	if !errors.As(err, &le) || le.Batch != "" || len(le.Letters) != 1 || le.Letters[0].DeliveryID != 22 ||
		!strings.HasPrefix(err.Error(), "1 letter not printed; delivery 22 (member 2): the name has") {
		t.Fatalf("err = %v, want letter 22 reported alone", err)
	}
	if !bytes.HasPrefix(out.Bytes(), []byte("%PDF-")) {
		t.Error("the printable letter was not written")
	}
	// None printable: nothing is written.
	out.Reset()
	if err := r.Render(context.Background(), &out, []worker.Letter{bad}); !errors.As(err, &le) || out.Len() != 0 {
		t.Errorf("err = %v and %d bytes written, want a *LetterErrors and nothing", err, out.Len())
	}
	if err := r.Render(context.Background(), &out, nil); err == nil || !strings.Contains(err.Error(), "no letters") {
		t.Errorf("no letters: err = %v", err)
	}
}

// TestRenderAtOnceLeavesTheFontsAlone: documents rendered at the same time (a worker's batches, the
// console's previews) do not share the font files fpdf writes into; the Go fonts' bytes stay as
// shipped. (Under -race, shared bytes were a data race; without, later letters' glyph widths could
// change.)
func TestRenderAtOnceLeavesTheFontsAlone(t *testing.T) {
	t.Parallel()
	before := sha256.Sum256(goregular.TTF)
	r, err := NewRenderer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	letters := sampleLetters()
	// Names with letters from the end of the fonts' tables, where fpdf's subsetter appends.
	letters[0].Member.FirstName, letters[0].Member.LastName = "Ŵŷŕ", "Ǻǽǿ Ωώ Жёў"
	var wg sync.WaitGroup
	sizes := make([]int, 6)
	for i := range sizes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			if err := r.Render(context.Background(), &out, letters); err != nil {
				t.Error(err)
			}
			sizes[i] = out.Len()
		}()
	}
	wg.Wait()
	if after := sha256.Sum256(goregular.TTF); after != before {
		t.Error("rendering changed the Go Regular font's bytes")
	}
	for i, n := range sizes {
		if n == 0 || n != sizes[0] {
			t.Errorf("document %d: %d bytes, the first %d: the same letters at once gave different PDFs", i, n, sizes[0])
		}
	}
}
