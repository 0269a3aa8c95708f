package campaigns

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
)

// UnsubscribeToken is what an unsubscribe link carries: the member's internal id and the channel,
// signed with HMAC-SHA256 under DISPATCH_SECRET. It names no person: an id and a signature.
type UnsubscribeToken struct {
	MemberID int64
	Channel  Channel
}

// Token versions: u2 names the key that signed it, so that DISPATCH_SECRET can be rotated while
// links already sent keep working (the old secret stays in DISPATCH_SECRET_PREVIOUS); u1, the first
// version, names none and is checked against every key.
const (
	tokenV1 = "u1"
	tokenV2 = "u2"
)

// KeyID names a secret in a token without revealing it: the first 4 bytes of its SHA-256, in hex.
func KeyID(secret []byte) string {
	h := sha256.Sum256(append([]byte("dispatch-key-id\x00"), secret...))
	return hex.EncodeToString(h[:4])
}

// SignUnsubscribe returns the token for the member and channel, signed with secret:
// "u2.<key id>.<id>.<channel>.<mac>".
func SignUnsubscribe(secret []byte, memberID int64, ch Channel) string {
	body := tokenV2 + "." + KeyID(secret) + "." + strconv.FormatInt(memberID, 10) + "." + string(ch)
	return body + "." + base64.RawURLEncoding.EncodeToString(unsubscribeMAC(secret, body))
}

// VerifyUnsubscribe checks a token's signature against the secrets given (the current one first,
// then those it replaced) and returns what it names. A forged, altered or malformed token, or one
// signed by a secret no longer given, is ErrInvalid; the comparison takes the same time however
// much of it matches.
func VerifyUnsubscribe(secrets [][]byte, token string) (UnsubscribeToken, error) {
	bad := Errorf(ErrInvalid, "the unsubscribe link is not valid")
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return UnsubscribeToken{}, bad
	}
	body, sig := token[:i], token[i+1:]
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return UnsubscribeToken{}, bad
	}
	parts := strings.Split(body, ".")
	var idPart, chPart string
	var candidates [][]byte
	switch {
	case len(parts) == 4 && parts[0] == tokenV2:
		for _, s := range secrets {
			if KeyID(s) == parts[1] {
				candidates = append(candidates, s)
			}
		}
		idPart, chPart = parts[2], parts[3]
	case len(parts) == 3 && parts[0] == tokenV1:
		candidates, idPart, chPart = secrets, parts[1], parts[2]
	default:
		return UnsubscribeToken{}, bad
	}
	ok := false
	for _, s := range candidates {
		if hmac.Equal(mac, unsubscribeMAC(s, body)) {
			ok = true
		}
	}
	if !ok {
		return UnsubscribeToken{}, bad
	}
	id, err := strconv.ParseInt(idPart, 10, 64)
	if err != nil || id <= 0 {
		return UnsubscribeToken{}, bad
	}
	ch, err := ParseChannel(chPart)
	if err != nil {
		return UnsubscribeToken{}, bad
	}
	return UnsubscribeToken{MemberID: id, Channel: ch}, nil
}

func unsubscribeMAC(secret []byte, body string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("dispatch-unsubscribe\x00"))
	m.Write([]byte(body))
	return m.Sum(nil)[:20]
}
