package print

import (
	"context"
	"fmt"
	"image/color"
	"regexp"
	"strings"

	"github.com/boombuler/barcode/code128"
	"github.com/go-pdf/fpdf"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/worker"
)

// Page geometry, in millimetres from the top left corner of the A4 sheet (210 x 297 mm).
//
// The envelope is a C5 or C65 envelope with its window on the RIGHT (the common Finnish/European
// right-window envelope, SFS/DIN 680 style): the window is about 90 x 45 mm, its left edge 110 mm from
// the sheet's left edge and its top 45 mm from the sheet's top, so it spans x 110..200, y 45..90 on a
// sheet folded to C5 (once) or C65 (twice, at 99 mm and 198 mm). The sheet may slide 5 mm any way in
// the envelope (windowPlay).
//
// Posti wants nothing but the recipient's address in the window. So the address, 10 pt, 5 mm a
// line, at most 7 lines, lies at x 115..195, y 50..85 (in points: x 326..553, y 142..241): inside
// the window however the sheet slides. Nothing else is printed within 5 mm of the window
// (x 105..205, y 40..95): the letterhead is at the top left, the sender's return line is a footer
// at the bottom of the page, and the letter starts at y 105.
const (
	pageWidth  = 210.0
	marginLeft = 20.0
	textWidth  = pageWidth - 2*marginLeft // 170

	windowLeft   = 110.0
	windowTop    = 45.0
	windowRight  = 200.0
	windowBottom = 90.0
	windowPlay   = 5.0

	letterheadY    = 15.0
	letterheadLine = 4.0
	letterheadSize = 9.0

	addressX       = windowLeft + windowPlay             // 115
	addressWidth   = windowRight - windowPlay - addressX // 80
	addressY       = windowTop + windowPlay              // 50
	addressLine    = 5.0
	addressSize    = 10.0
	addressMaxRows = 7 // 50 + 7*5 = 85 = windowBottom - windowPlay

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

	returnLineY    = 283.0 // the sender's return line: a footer, below the body's bottom margin
	returnLineH    = 3.0
	returnLineSize = 6.0
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

// document is one PDF being drawn: it lays letters out and draws them in the embedded Go fonts.
type document struct {
	pdf         *fpdf.Fpdf // the PDF drawn
	measure     *fpdf.Fpdf // a PDF without pages, whose fonts measure text for layout (fpdf needs a current font to measure, and selecting one on pdf writes to its current page)
	fonts       *fonts
	senderLines []string // the letterhead, ready to draw
	returnLine  string   // the footer: the sender's lines joined with ", ", cut to the text width
}

// newDocument returns a document on a new A4 PDF with the fonts embedded, or an error when the
// sender's address has a character the fonts cannot draw.
func newDocument(fs *fonts, sender string) (*document, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(marginLeft, letterheadY, marginLeft)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCellMargin(0)
	pdf.SetCreator("dispatch", false)
	fs.register(pdf)
	measure := fpdf.New("P", "mm", "A4", "")
	measure.SetCellMargin(0)
	fs.register(measure)
	r := &document{pdf: pdf, measure: measure, fonts: fs}
	for _, line := range splitLines(sender) {
		t, err := fs.regular.text(line, false)
		if err != nil {
			return nil, fmt.Errorf("sender address: %w", err)
		}
		r.senderLines = append(r.senderLines, t)
	}
	measure.SetFont(fs.regular.family, fs.regular.style, returnLineSize)
	if rl := measure.SplitText(strings.Join(r.senderLines, ", "), textWidth); len(rl) > 0 {
		r.returnLine = rl[0] // cut to the text width
	}
	if err := pdf.Error(); err != nil {
		return nil, err
	}
	return r, measure.Error()
}

// renderPDF lays out and draws letters, one A4 page each in the order given, skipping a letter that
// cannot be printed (see layout). It returns the letters drawn and the ones skipped, or an error
// that spoils the whole PDF (the context ended, fpdf failed).
func (r *document) renderPDF(ctx context.Context, letters []worker.Letter) (printed []worker.Letter, failed []LetterFailure, err error) {
	for i, l := range letters {
		if i%100 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		page, err := r.layout(l)
		if err != nil {
			failed = append(failed, LetterFailure{DeliveryID: l.DeliveryID, MemberID: l.Member.ID, Reason: err.Error()})
			continue
		}
		r.draw(page)
		if err := r.pdf.Error(); err != nil {
			return nil, nil, fmt.Errorf("letter %d (delivery %d): %w", i+1, l.DeliveryID, err)
		}
		printed = append(printed, l)
	}
	return printed, failed, nil
}

// page is one letter laid out, every text ready for fpdf in its font.
type page struct {
	address    []string   // address rows, each fitting addressWidth
	heading    []string   // title rows
	paragraphs [][]string // body rows, a slice a paragraph
	bodySize   float64    // body font size (pt)
	bodyLine   float64    // body line height (mm)
	bodyTop    float64    // where the body starts (mm)
	couponText string     // label above the coupon code
	coupon     string     // coupon code; "" for none
}

// layout lays a letter out without drawing it. It fails, with a reason that quotes nothing of the
// member's data, when a text has a character the fonts cannot draw, when the address needs more
// rows than the window holds, or when the text does not fit on the page even at the smallest size.
func (r *document) layout(l worker.Letter) (*page, error) {
	pdf, fs := r.measure, r.fonts
	p := &page{}

	pdf.SetFont(fs.regular.family, fs.regular.style, addressSize)
	for _, f := range addressFields(l.Member) {
		for _, line := range f.lines {
			t, err := fs.regular.text(line, false)
			if err != nil {
				return nil, fmt.Errorf("the %s has %w", f.name, err)
			}
			p.address = append(p.address, pdf.SplitText(t, addressWidth)...)
		}
	}
	if len(p.address) > addressMaxRows {
		return nil, fmt.Errorf("the address needs %d lines in the envelope window, at most %d fit", len(p.address), addressMaxRows)
	}

	title, err := fs.bold.text(strings.TrimSpace(l.Content.Title), false)
	if err != nil {
		return nil, fmt.Errorf("the title has %w", err)
	}
	pdf.SetFont(fs.bold.family, fs.bold.style, headingSize)
	p.heading = pdf.SplitText(title, textWidth)
	p.bodyTop = headingY + float64(len(p.heading))*headingLine
	if len(p.heading) > 0 {
		p.bodyTop += headingGap
	}

	var paragraphs []string
	for _, para := range paragraphBreak.Split(strings.TrimSpace(l.Content.Text), -1) {
		t, err := fs.regular.text(strings.TrimSpace(para), true)
		if err != nil {
			return nil, fmt.Errorf("the text has %w", err)
		}
		if t = strings.TrimSpace(t); t != "" {
			paragraphs = append(paragraphs, t)
		}
	}
	if l.CouponCode != "" {
		if p.coupon, err = fs.mono.text(l.CouponCode, false); err != nil {
			return nil, fmt.Errorf("the coupon code has %w", err)
		}
		label, ok := couponLabels[l.Member.Language]
		if !ok {
			label = couponLabels[campaigns.English]
		}
		p.couponText = label
	}

	// The largest body size that fits above the coupon block (or the bottom margin).
	bottom := bodyBottom
	if p.coupon != "" {
		bottom = bodyBottomCoupon
	}
	for _, size := range bodySizes {
		pdf.SetFont(fs.regular.family, fs.regular.style, size)
		p.bodySize, p.bodyLine = size, size*0.5 // 11 pt -> 5.5 mm
		p.paragraphs = p.paragraphs[:0]
		height := 0.0
		for _, para := range paragraphs {
			lines := pdf.SplitText(para, textWidth)
			p.paragraphs = append(p.paragraphs, lines)
			height += float64(len(lines))*p.bodyLine + p.bodyLine/2
		}
		if p.bodyTop+height <= bottom {
			return p, nil
		}
	}
	return nil, fmt.Errorf("the letter's text does not fit on one page even at %g pt", bodySizes[len(bodySizes)-1])
}

// draw draws a laid-out letter on a new page.
func (r *document) draw(p *page) {
	pdf, fs := r.pdf, r.fonts
	pdf.AddPage()

	// Letterhead, top left, outside the window.
	pdf.SetFont(fs.regular.family, fs.regular.style, letterheadSize)
	for i, line := range r.senderLines {
		pdf.SetXY(marginLeft, letterheadY+float64(i)*letterheadLine)
		pdf.CellFormat(80, letterheadLine, line, "", 0, "L", false, 0, "")
	}

	// Recipient address, alone in the window.
	pdf.SetFont(fs.regular.family, fs.regular.style, addressSize)
	for i, row := range p.address {
		pdf.SetXY(addressX, addressY+float64(i)*addressLine)
		pdf.CellFormat(addressWidth, addressLine, row, "", 0, "L", false, 0, "")
	}

	pdf.SetFont(fs.bold.family, fs.bold.style, headingSize)
	for i, h := range p.heading {
		pdf.SetXY(marginLeft, headingY+float64(i)*headingLine)
		pdf.CellFormat(textWidth, headingLine, h, "", 0, "L", false, 0, "")
	}
	pdf.SetFont(fs.regular.family, fs.regular.style, p.bodySize)
	y := p.bodyTop
	for _, para := range p.paragraphs {
		for _, ln := range para {
			pdf.SetXY(marginLeft, y)
			pdf.CellFormat(textWidth, p.bodyLine, ln, "", 0, "L", false, 0, "")
			y += p.bodyLine
		}
		y += p.bodyLine / 2
	}

	if p.coupon != "" {
		r.coupon(p.couponText, p.coupon)
	}

	// Return line, small, at the foot of the page.
	pdf.SetFont(fs.regular.family, fs.regular.style, returnLineSize)
	pdf.SetXY(marginLeft, returnLineY)
	pdf.CellFormat(textWidth, returnLineH, r.returnLine, "", 0, "L", false, 0, "")
}

// coupon draws the coupon block: a label, the code in large type, and the code as a Code 128
// barcode drawn as vector bars (left out when the code cannot be encoded in Code 128).
func (r *document) coupon(label, code string) {
	pdf, fs := r.pdf, r.fonts
	pdf.SetFont(fs.regular.family, fs.regular.style, couponLabelSize)
	pdf.SetXY(marginLeft, couponY)
	pdf.CellFormat(textWidth, 4, label, "", 0, "L", false, 0, "")
	pdf.SetFont(fs.mono.family, fs.mono.style, couponCodeSize)
	pdf.SetXY(marginLeft, couponY+4)
	pdf.CellFormat(textWidth, 9, code, "", 0, "L", false, 0, "")

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

// addressField is one part of the recipient block, named for a failure's reason.
type addressField struct {
	name  string
	lines []string
}

// addressFields returns the recipient block: name, street, postal code and post town (in capitals,
// as Posti asks), and the country in capitals when it is not Finland (FI, or AX for Åland, or empty).
func addressFields(m campaigns.Member) []addressField {
	fields := []addressField{
		{"name", []string{fullName(m.FirstName, m.LastName)}},
		{"street", splitLines(m.Street)},
		{"postal code or post town", []string{strings.TrimSpace(strings.TrimSpace(m.PostalCode) + " " + strings.ToUpper(strings.TrimSpace(m.City)))}},
	}
	switch c := strings.ToUpper(strings.TrimSpace(m.Country)); c {
	case "", "FI", "FIN", "FINLAND", "SUOMI", "AX":
	default:
		if name, ok := countryNames[c]; ok {
			c = name
		}
		fields = append(fields, addressField{"country", []string{c}})
	}
	return fields
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
