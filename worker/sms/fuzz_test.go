package sms

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// gsm0338 is the GSM 03.38 default alphabet by code point (3GPP TS 23.038, 6.2.1), written out
// here apart from encode.go's sets so that the two check each other. 0x1B is the escape to the
// extension table, not a character.
var gsm0338 = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', -1, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsm0338Extension is the extension table (escape 0x1B, then the code): form feed, ^ { } \ [ ~ ] | €.
var gsm0338Extension = map[rune]byte{'\f': 0x0A, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2F,
	'[': 0x3C, '~': 0x3D, ']': 0x3E, '|': 0x40, '€': 0x65}

// septets encodes text as GSM 03.38 septets (an extension character as 0x1B and its code), or
// reports that it has a character outside both tables.
func septets(text string) ([]int, bool) {
	var out []int
	for _, r := range text {
		if code, ok := gsm0338Extension[r]; ok {
			out = append(out, 0x1B, int(code))
			continue
		}
		i := 0
		for i < len(gsm0338) && gsm0338[i] != r {
			i++
		}
		if i == len(gsm0338) {
			return nil, false
		}
		out = append(out, i)
	}
	return out, true
}

// partsOf splits units into parts of at most size, never ending a part between the two units of
// one character (an escape and its code, a surrogate pair): the gateways' rule, which Encode states.
func partsOf(units []int, size int, splitsPair func(first int) bool) int {
	parts := 0
	for i := 0; i < len(units); {
		n := min(size, len(units)-i)
		if i+n < len(units) && splitsPair(units[i+n-1]) {
			n--
		}
		i += n
		parts++
	}
	return parts
}

// FuzzEncode checks Encode against an encoder written here from the standard: the text is GSM-7
// exactly when every character is in the GSM 03.38 tables; the segment count is that of the
// text's actual septets (an extension character as escape + code) or UTF-16 units, 160/70 in one
// message, else parts of 153/67 that never split a character; never less than one, never less
// than the prefix's when the encoding stays the same; the same answer every time.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{
		"",
		"Hyvää päivää! Åsa, Östen, Ärla: Ü é É ü å ö ä",
		"Jack's Mood: -20 % kaikesta 1.12. asti. Koodi ABCD-EFGH. Lopeta: vastaa STOP",
		"Hinta 49,90 € [alk.] {tarjous} ~ ^ | \\ \f",
		strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152),
		"Šiauliai 😀 žena `backtick`",
		strings.Repeat("š", 66) + "😀" + strings.Repeat("š", 66),
		"\xff\xfe invalid UTF-8",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		enc, segments := Encode(text)
		if enc2, segments2 := Encode(text); enc2 != enc || segments2 != segments {
			t.Fatalf("Encode is not deterministic: %s %d, then %s %d", enc, segments, enc2, segments2)
		}
		if segments < 1 {
			t.Fatalf("Encode(%q) = %d segments, want at least 1", text, segments)
		}
		var units []int
		var single, part int
		var splitsPair func(int) bool
		if sep, ok := septets(text); ok {
			if enc != GSM7 {
				t.Fatalf("Encode(%q) = %s, but every character is in GSM 03.38", text, enc)
			}
			units, single, part = sep, 160, 153
			splitsPair = func(u int) bool { return u == 0x1B }
		} else {
			if enc != UCS2 {
				t.Fatalf("Encode(%q) = %s, but it has a character outside GSM 03.38", text, enc)
			}
			// A byte that is not UTF-8 is sent as U+FFFD, as []rune reads it.
			for _, u := range utf16.Encode([]rune(text)) {
				units = append(units, int(u))
			}
			single, part = 70, 67
			splitsPair = func(u int) bool { return utf16.IsSurrogate(rune(u)) && u < 0xDC00 }
		}
		want := 1
		if len(units) > single {
			want = partsOf(units, part, splitsPair)
		}
		if segments != want {
			t.Fatalf("Encode(%q) = %s, %d segments; %d units make %d", text, enc, segments, len(units), want)
		}
		// Whatever is sent in several parts could not go in one, and fills each part but the last
		// to all but at most one unit.
		if segments > 1 && (len(units) <= single || len(units) > segments*part || len(units) <= (segments-1)*(part-1)) {
			t.Fatalf("Encode(%q): %d units in %d segments", text, len(units), segments)
		}
		// A longer text in the same encoding never takes fewer segments.
		if _, size := utf8.DecodeLastRuneInString(text); size > 0 {
			prefix := text[:len(text)-size]
			if penc, psegments := Encode(prefix); penc == enc && psegments > segments {
				t.Fatalf("Encode(%q) = %d segments, but its prefix takes %d", text, segments, psegments)
			}
		}
	})
}
