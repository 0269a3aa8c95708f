package sms

import (
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	s := func(n int) string { return strings.Repeat("š", n) }
	const emoji = "😀" // outside the BMP: a surrogate pair, two UTF-16 units
	tests := []struct {
		name     string
		text     string
		enc      Encoding
		segments int
	}{
		{"empty", "", GSM7, 1},
		{"160 septets fit one segment", a(160), GSM7, 1},
		{"161 septets take two", a(161), GSM7, 2},
		{"153*2 septets take two", a(153 * 2), GSM7, 2},
		{"153*2+1 septets take three", a(153*2 + 1), GSM7, 3},
		{"153*3 septets take three", a(153 * 3), GSM7, 3},
		{"extension char counts two: 158+€ is 160", a(158) + "€", GSM7, 1},
		{"extension char counts two: 159+€ is 161", a(159) + "€", GSM7, 2},
		{"extension char at a part boundary is not split", a(152) + "€" + a(152), GSM7, 3},
		{"extension char filling a part exactly", a(151) + "€" + a(153), GSM7, 2},
		{"every extension char", "^{}\\[~]|€\f", GSM7, 1},
		{"extension chars count two each", strings.Repeat("[]", 40), GSM7, 1},
		{"81 extension chars are 162 septets", strings.Repeat("{", 81), GSM7, 2},
		{"Finnish and Swedish letters are GSM", "Hyvää päivää! Åsa, Östen, Ärla: Ü é É ü å ö ä", GSM7, 1},
		{"160 ä fit one GSM segment", strings.Repeat("ä", 160), GSM7, 1},
		{"GSM Greek capitals", "ΔΦΓΛΩΠΨΣΘΞ", GSM7, 1},
		{"š is not GSM", "Šiauliai", UCS2, 1},
		{"ž is not GSM", "žena", UCS2, 1},
		{"backtick is not GSM", "a`b", UCS2, 1},
		{"70 units fit one segment", s(70), UCS2, 1},
		{"71 units take two", s(71), UCS2, 2},
		{"67*2 units take two", s(67 * 2), UCS2, 2},
		{"67*2+1 units take three", s(67*2 + 1), UCS2, 3},
		{"one non-GSM char makes all UCS-2", a(69) + "š", UCS2, 1},
		{"one non-GSM char in 71 chars", a(70) + "š", UCS2, 2},
		{"emoji counts two units: 68+emoji is 70", s(68) + emoji, UCS2, 1},
		{"emoji counts two units: 69+emoji is 71", s(69) + emoji, UCS2, 2},
		{"emoji alone", emoji, UCS2, 1},
		{"surrogate pair at a part boundary is not split", s(66) + emoji + s(66), UCS2, 3},
		{"surrogate pair filling a part exactly", s(65) + emoji + s(67), UCS2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, segments := Encode(tt.text)
			if enc != tt.enc || segments != tt.segments {
				t.Errorf("Encode(%d runes) = %s, %d; want %s, %d", len([]rune(tt.text)), enc, segments, tt.enc, tt.segments)
			}
		})
	}
}
