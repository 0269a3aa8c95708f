package sms

// Encoding is the character encoding an SMS is sent in.
type Encoding string

// The encodings of an SMS.
const (
	// GSM7 is the GSM 03.38 7-bit default alphabet with its extension table: 160 septets in a
	// single message, 153 in each part of a concatenated one.
	GSM7 Encoding = "GSM-7"
	// UCS2 is 16-bit UCS-2 (UTF-16 code units): 70 units in a single message, 67 in each part of a
	// concatenated one.
	UCS2 Encoding = "UCS-2"
)

// Segment sizes: a single message, and each part of a concatenated one (the rest of the 140 octets
// carries the user data header).
const (
	gsm7Single = 160
	gsm7Part   = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// gsm7Basic is the GSM 03.38 default alphabet (one septet each). The escape code 0x1B is not a
// character and is left out.
var gsm7Basic = runeSet("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")

// gsm7Extension is the GSM 03.38 extension table: each character is sent as escape plus a septet,
// so it counts two.
var gsm7Extension = runeSet("\f^{}\\[~]|€")

func runeSet(s string) map[rune]bool {
	m := make(map[rune]bool, len(s))
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Encode reports how text is sent: GSM-7 when every character is in the GSM 03.38 default
// alphabet or its extension table, else UCS-2; and the number of segments it takes.
//
// In GSM-7 a character counts one septet, an extension character (€ [ ] { } \ ~ ^ | and form
// feed) two; one segment holds 160 septets, and a longer text is split into parts of 153. In UCS-2
// a character counts one UTF-16 code unit, a character outside the Basic Multilingual Plane (most
// emoji) two; one segment holds 70 units, parts hold 67. As gateways do, a two-septet extension
// character or a surrogate pair is never split between two parts: when it does not fit in what is
// left of a part it starts the next one, so a concatenated text may take one segment more than its
// length divided by 153 (or 67). An empty text is one GSM-7 segment.
func Encode(text string) (enc Encoding, segments int) {
	enc = GSM7
	for _, r := range text {
		if !gsm7Basic[r] && !gsm7Extension[r] {
			enc = UCS2
			break
		}
	}
	single, part := gsm7Single, gsm7Part
	width := func(r rune) int {
		if gsm7Extension[r] {
			return 2
		}
		return 1
	}
	if enc == UCS2 {
		single, part = ucs2Single, ucs2Part
		width = func(r rune) int {
			if r > 0xFFFF {
				return 2
			}
			return 1
		}
	}
	total := 0
	for _, r := range text {
		total += width(r)
	}
	if total <= single {
		return enc, 1
	}
	segments, used := 1, 0
	for _, r := range text {
		w := width(r)
		if used+w > part {
			segments++
			used = 0
		}
		used += w
	}
	return enc, segments
}
