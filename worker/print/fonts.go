package print

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// face is one of the Go fonts the letters are set in: its name in the PDF and the characters it has
// a glyph for.
type face struct {
	family, style string
	ttf           []byte
	glyphs        *[0x10000 / 64]uint64 // bit r is set when the font draws rune r (Basic Multilingual Plane only)
}

// fonts are the faces a letter uses: regular for the letterhead, the address and the text, bold
// for the title, mono bold for the coupon code. The Go fonts cover WGL4 (Latin with every European
// letter, Greek, Cyrillic) and little else.
type fonts struct {
	regular, bold, mono face
}

// loadFonts parses the Go fonts shipped with the binary and records which characters each can draw.
// It fails only when a font does not parse, which a build of this package cannot ship.
func loadFonts() (*fonts, error) {
	fs := &fonts{
		regular: face{family: "Go", style: "", ttf: goregular.TTF},
		bold:    face{family: "Go", style: "B", ttf: gobold.TTF},
		mono:    face{family: "GoMono", style: "B", ttf: gomonobold.TTF},
	}
	for _, f := range []*face{&fs.regular, &fs.bold, &fs.mono} {
		font, err := sfnt.Parse(f.ttf)
		if err != nil {
			return nil, fmt.Errorf("print: parse font %s %s: %w", f.family, f.style, err)
		}
		f.glyphs = new([0x10000 / 64]uint64)
		var buf sfnt.Buffer
		for r := range rune(0x10000) {
			if g, err := font.GlyphIndex(&buf, r); err == nil && g != 0 {
				f.glyphs[r/64] |= 1 << (r % 64)
			}
		}
	}
	return fs, nil
}

// register embeds the faces in pdf (as subsets of the characters used, at Output). Each document
// gets its own copy of the font files: fpdf's subsetter appends to slices of the bytes it is given
// (utf8FontFile.getMetrics), writing into them, so documents made at once (a worker's batches, the
// console's previews) would race on shared bytes, and the Go fonts' own would be changed for every
// later document. A copy is about 500 KB a document.
func (fs *fonts) register(pdf *fpdf.Fpdf) {
	for _, f := range []face{fs.regular, fs.bold, fs.mono} {
		pdf.AddUTF8FontFromBytes(f.family, f.style, bytes.Clone(f.ttf))
	}
}

// has reports whether f draws r. fpdf handles runes of the Basic Multilingual Plane only (a rune
// above U+FFFF makes it panic), and draws a rune the font lacks as the font's empty box while the
// PDF's text layer still says the rune: so only what has reports may reach fpdf. U+FFFD, the
// replacement character (what invalid UTF-8 decodes to), is never drawn either.
func (f face) has(r rune) bool {
	return r >= 0 && r < 0x10000 && r != unicode.ReplacementChar && f.glyphs[r/64]&(1<<(r%64)) != 0
}

// undrawable is the error text returns: the characters of a text that its font cannot draw.
type undrawable []rune

func (u undrawable) Error() string {
	return fmt.Sprintf("%d %s the font cannot draw (%s)", len(u), plural(len(u), "character", "characters"), scripts(u))
}

// text returns s ready for fpdf in face f: composed (NFC, so that "a" and a combining diaeresis
// become "ä"), tabs, carriage returns and any space the font lacks made plain spaces, newlines kept
// when multiline and made spaces otherwise, and invisible characters (controls, zero-width spaces
// and joiners, soft hyphens, variation selectors, byte order marks) dropped. When a character is
// left that the font cannot draw, it returns an undrawable error listing them instead.
func (f face) text(s string, multiline bool) (string, error) {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	var missing undrawable
	for _, r := range s {
		switch {
		case r == '\n' && multiline:
			b.WriteByte('\n')
		case r == ' ' || r == '\t' || r == '\r' || r == '\n' || (unicode.IsSpace(r) && !f.has(r)):
			b.WriteByte(' ')
		case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Variation_Selector, r):
		case f.has(r):
			b.WriteRune(r)
		default:
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return "", missing
	}
	return b.String(), nil
}

// scripts names the Unicode scripts of runes, in order of first appearance, "symbols" standing for
// the characters of no script (emoji, signs) and "invalid UTF-8" for U+FFFD: what a reason may say
// of a member's name without quoting it.
func scripts(runes []rune) string {
	var names []string
	for _, r := range runes {
		name := "symbols"
		if r == unicode.ReplacementChar {
			name = "invalid UTF-8"
		} else {
			for n, table := range unicode.Scripts {
				if n != "Common" && n != "Inherited" && unicode.Is(table, r) {
					name = n + " script"
					break
				}
			}
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

// plural returns one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
