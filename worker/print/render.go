package print

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"regexp"
	"strings"
	"unicode"

	"github.com/boombuler/barcode/code128"
	"github.com/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/worker"
)

// Page geometry, in millimetres from the top left corner of the A4 sheet (210 x 297 mm).
//
// The envelope is a C5 or C65 envelope with its window on the RIGHT (the common Finnish/European
// right-window envelope, SFS/DIN 680 style): the window is about 90 x 45 mm, its left edge 110 mm from
// the sheet's left edge and its top 45 mm from the sheet's top, so it spans x 110..200, y 45..90 on a
// sheet folded to C5 (once) or C65 (twice, at 99 mm and 198 mm). Inside it, with 5 mm of play on every
// side for the sheet sliding in the envelope:
//
//   - the sender's return line, 6 pt, at x 115, y 47 (in points: x 326, y 133);
//   - the recipient's address, 10 pt, 5 mm a line, at x 115, y 52, 80 mm wide, at most 7 lines, so
//     it ends above y 87 (in points: x 326..553, y 147..247).
//
// Nothing else is printed in the window area. The letter starts below it, at y 105.
const (
	pageWidth  = 210.0
	marginLeft = 20.0
	textWidth  = pageWidth - 2*marginLeft // 170

	letterheadY    = 15.0
	letterheadLine = 4.0
	letterheadSize = 9.0

	windowX        = 115.0 // address block's left edge (window's left edge is at 110)
	windowWidth    = 80.0  // address block's width (window is 90 wide)
	returnLineY    = 47.0  // sender's return line (window's top is at 45)
	returnLineH    = 3.0
	returnLineSize = 6.0
	addressY       = 52.0
	addressLine    = 5.0
	addressSize    = 10.0
	addressMaxRows = 7 // 52 + 7*5 = 87, above the window's bottom at 90

	headingY    = 105.0
	headingSize = 14.0
	headingLine = 7.0
	headingGap  = 4.0

	bodyBottom       = 277.0 // 20 mm bottom margin
	bodyBottomCoupon = 228.0 // room for the coupon block below
	couponY          = 235.0
	couponLabelSize  = 9.0
	couponCodeSize   = 20.0
	barcodeY         = 250.0
	barcodeHeight    = 14.0
	barcodeMaxWidth  = 90.0
	barcodeModule    = 0.35 // mm per Code 128 module at most; narrower when the code is long
)

// bodySizes are the body font sizes tried in turn until the letter fits on one page.
var bodySizes = []float64{11, 10, 9, 8}

// paragraphBreak splits a letter's text into paragraphs at blank lines.
var paragraphBreak = regexp.MustCompile(`\n[ \t]*\n\s*`)

// couponLabels names the coupon code in the member's language; English when unknown.
var couponLabels = map[campaigns.Language]string{
	campaigns.Finnish: "Kuponkikoodi",
	campaigns.Swedish: "Kupongkod",
	campaigns.English: "Coupon code",
}

// countryNames are the country lines for the countries dispatch is likely to mail to; any other
// country is printed as given, in capitals. FI and AX (Åland) are domestic: no country line.
var countryNames = map[string]string{
	"SE": "SWEDEN", "NO": "NORWAY", "DK": "DENMARK", "IS": "ICELAND", "EE": "ESTONIA",
	"DE": "GERMANY", "GB": "UNITED KINGDOM", "US": "UNITED STATES",
}

// renderPDF writes the batch's PDF to out: one A4 page a letter, in the order given.
func renderPDF(ctx context.Context, out io.Writer, sender string, letters []worker.Letter) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(marginLeft, letterheadY, marginLeft)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCellMargin(0)
	pdf.SetCreator("dispatch", false)
	r := &renderer{pdf: pdf, tr: pdf.UnicodeTranslatorFromDescriptor(""), cache: map[rune]string{}}
	senderLines := splitLines(sender)
	returnLine := strings.Join(senderLines, ", ")
	for i, l := range letters {
		if i%100 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := r.letter(senderLines, returnLine, l); err != nil {
			return fmt.Errorf("letter %d (delivery %d): %w", i+1, l.DeliveryID, err)
		}
		if err := pdf.Error(); err != nil {
			return fmt.Errorf("letter %d (delivery %d): %w", i+1, l.DeliveryID, err)
		}
	}
	return pdf.Output(out)
}

// renderer draws letters on one PDF, translating text to cp1252 for the core fonts.
type renderer struct {
	pdf   *fpdf.Fpdf
	tr    func(string) string
	cache map[rune]string // cp1252-safe replacement of runes outside cp1252
}

// letter draws one letter on a new page.
func (r *renderer) letter(senderLines []string, returnLine string, l worker.Letter) error {
	pdf := r.pdf
	pdf.AddPage()

	// Letterhead, top left, outside the window.
	pdf.SetFont("Helvetica", "", letterheadSize)
	for i, line := range senderLines {
		pdf.SetXY(marginLeft, letterheadY+float64(i)*letterheadLine)
		pdf.CellFormat(80, letterheadLine, r.text(line), "", 0, "L", false, 0, "")
	}

	// Return line, small, at the top of the window; cut to the window's width.
	pdf.SetFont("Helvetica", "", returnLineSize)
	if rl := pdf.SplitLines([]byte(r.text(returnLine)), windowWidth); len(rl) > 0 {
		pdf.SetXY(windowX, returnLineY)
		pdf.CellFormat(windowWidth, returnLineH, string(rl[0]), "", 0, "L", false, 0, "")
	}

	// Recipient address.
	pdf.SetFont("Helvetica", "", addressSize)
	var rows [][]byte
	for _, line := range addressLines(l.Member) {
		rows = append(rows, pdf.SplitLines([]byte(r.text(line)), windowWidth)...)
	}
	if len(rows) > addressMaxRows {
		return fmt.Errorf("address needs %d lines in the envelope window, at most %d fit", len(rows), addressMaxRows)
	}
	for i, row := range rows {
		pdf.SetXY(windowX, addressY+float64(i)*addressLine)
		pdf.CellFormat(windowWidth, addressLine, string(row), "", 0, "L", false, 0, "")
	}

	// Title and body: the largest body size that fits above the coupon block (or the bottom margin).
	bottom := bodyBottom
	if l.CouponCode != "" {
		bottom = bodyBottomCoupon
	}
	pdf.SetFont("Helvetica", "B", headingSize)
	heading := pdf.SplitLines([]byte(r.text(strings.TrimSpace(l.Content.Title))), textWidth)
	top := headingY + float64(len(heading))*headingLine
	if len(heading) > 0 {
		top += headingGap
	}
	var paragraphs [][][]byte
	var size, line float64
	for _, size = range bodySizes {
		pdf.SetFont("Helvetica", "", size)
		line = size * 0.5 // 11 pt -> 5.5 mm
		paragraphs = paragraphs[:0]
		height := 0.0
		for _, p := range paragraphBreak.Split(strings.TrimSpace(l.Content.Text), -1) {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			lines := pdf.SplitLines([]byte(r.text(p)), textWidth)
			paragraphs = append(paragraphs, lines)
			height += float64(len(lines))*line + line/2
		}
		if top+height <= bottom {
			break
		}
		if size == bodySizes[len(bodySizes)-1] {
			return fmt.Errorf("letter text does not fit on one page even at %g pt", size)
		}
	}
	pdf.SetFont("Helvetica", "B", headingSize)
	for i, h := range heading {
		pdf.SetXY(marginLeft, headingY+float64(i)*headingLine)
		pdf.CellFormat(textWidth, headingLine, string(h), "", 0, "L", false, 0, "")
	}
	pdf.SetFont("Helvetica", "", size)
	y := top
	for _, p := range paragraphs {
		for _, ln := range p {
			pdf.SetXY(marginLeft, y)
			pdf.CellFormat(textWidth, line, string(ln), "", 0, "L", false, 0, "")
			y += line
		}
		y += line / 2
	}

	if l.CouponCode != "" {
		r.coupon(l.CouponCode, l.Member.Language)
	}
	return nil
}

// coupon draws the coupon block: a label, the code in large type, and the code as a Code 128
// barcode drawn as vector bars (left out when the code cannot be encoded in Code 128).
func (r *renderer) coupon(code string, lang campaigns.Language) {
	pdf := r.pdf
	label, ok := couponLabels[lang]
	if !ok {
		label = couponLabels[campaigns.English]
	}
	pdf.SetFont("Helvetica", "", couponLabelSize)
	pdf.SetXY(marginLeft, couponY)
	pdf.CellFormat(textWidth, 4, r.text(label), "", 0, "L", false, 0, "")
	pdf.SetFont("Courier", "B", couponCodeSize)
	pdf.SetXY(marginLeft, couponY+4)
	pdf.CellFormat(textWidth, 9, r.text(code), "", 0, "L", false, 0, "")

	bc, err := code128.Encode(code)
	if err != nil {
		return
	}
	modules := bc.Bounds().Dx()
	module := min(barcodeModule, barcodeMaxWidth/float64(modules))
	pdf.SetFillColor(0, 0, 0)
	for x := 0; x < modules; {
		if !dark(bc.At(x, 0)) {
			x++
			continue
		}
		run := 1
		for x+run < modules && dark(bc.At(x+run, 0)) {
			run++
		}
		pdf.Rect(marginLeft+float64(x)*module, barcodeY, float64(run)*module, barcodeHeight, "F")
		x += run
	}
}

// dark reports whether a barcode module is a bar.
func dark(c color.Color) bool {
	red, _, _, _ := c.RGBA()
	return red < 0x8000
}

// addressLines returns the recipient block: name, street, postal code and city, and the country
// when it is not Finland (FI, or AX for Åland, or empty).
func addressLines(m campaigns.Member) []string {
	lines := []string{fullName(m.FirstName, m.LastName)}
	lines = append(lines, splitLines(m.Street)...)
	lines = append(lines, strings.TrimSpace(strings.TrimSpace(m.PostalCode)+" "+strings.TrimSpace(m.City)))
	switch c := strings.ToUpper(strings.TrimSpace(m.Country)); c {
	case "", "FI", "FIN", "FINLAND", "SUOMI", "AX":
	default:
		if name, ok := countryNames[c]; ok {
			c = name
		}
		lines = append(lines, c)
	}
	return lines
}

// splitLines splits s into its non-empty trimmed lines.
func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// text returns s encoded in cp1252 for the core fonts: characters cp1252 has are kept, letters with
// diacritics it lacks lose them (ő -> o), anything else becomes '?'. Tabs become spaces; newlines
// are kept for the line splitter.
func (r *renderer) text(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, c := range s {
		switch {
		case c == '\n':
			b.WriteRune(c)
		case c == '\t' || c == '\r':
			b.WriteByte(' ')
		case c < 0x80 && !unicode.IsControl(c):
			b.WriteRune(c)
		default:
			rep, ok := r.cache[c]
			if !ok {
				rep = cp1252Safe(c)
				r.cache[c] = rep
			}
			b.WriteString(rep)
		}
	}
	return r.tr(b.String())
}

// cp1252Safe returns c when cp1252 has it, else its base letters without diacritics when cp1252 has
// those, else "?".
func cp1252Safe(c rune) string {
	if inCP1252(c) {
		return string(c)
	}
	var b strings.Builder
	for _, d := range norm.NFD.String(string(c)) {
		switch {
		case unicode.Is(unicode.Mn, d):
		case inCP1252(d):
			b.WriteRune(d)
		default:
			return "?"
		}
	}
	if b.Len() == 0 {
		return "?"
	}
	return b.String()
}

// inCP1252 reports whether c is a printable character of Windows-1252.
func inCP1252(c rune) bool {
	if unicode.IsControl(c) {
		return false
	}
	_, ok := charmap.Windows1252.EncodeRune(c)
	return ok
}
