package print

import (
	"bytes"
	"context"
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
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
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

	// What each page shows: the PDF name is transliterated where cp1252 lacks a letter (ř -> r).
	pdfNames := []string{"Åsa Öhrnbäck", "Matti Virtanen", "Élise Dvorák"}
	for i, l := range letters {
		page := i + 1
		text := run(t, "", "pdftotext", "-layout", "-f", strconv.Itoa(page), "-l", strconv.Itoa(page), pdf, "-")
		m := l.Member
		want := []string{pdfNames[i], m.Street, m.PostalCode + " " + m.City, l.Content.Title}
		if l.CouponCode != "" {
			want = append(want, l.CouponCode)
		}
		for _, s := range want {
			if !strings.Contains(text, s) {
				t.Errorf("page %d does not contain %q:\n%s", page, s, text)
			}
		}
		for j, other := range letters {
			if j != i && (strings.Contains(text, pdfNames[j]) || strings.Contains(text, other.Member.LastName)) {
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
		// y between 120 and 260 pt (window 45..90 mm = 128..255 pt).
		words := pageWords(t, pdf, page)
		addr := strings.Fields(pdfNames[i] + " " + m.Street + " " + m.PostalCode + " " + m.City)
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
	if _, err := w.SendBatch(ctx, "long", long); err == nil || !strings.Contains(err.Error(), "delivery 11") {
		t.Errorf("a letter longer than a page: err = %v, want a refusal naming the delivery", err)
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
}

func TestText(t *testing.T) {
	r := &renderer{tr: func(s string) string { return s }, cache: map[rune]string{}}
	for in, want := range map[string]string{
		"Hyvää päivää, Åsa Öberg – é ü €": "Hyvää päivää, Åsa Öberg – é ü €",
		"Dvořák Łukasz Ștefan":            "Dvorák ?ukasz Stefan",
		"Иван 李 😀\tx\x07":                 "???? ? ? x?",
	} {
		if got := r.text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
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
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.SendBatch(context.Background(), "bench", letters); err != nil {
			b.Fatal(err)
		}
	}
}
