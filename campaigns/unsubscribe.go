package campaigns

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// UnsubscribeToken is what an unsubscribe link carries: the member's internal id and the channel,
// signed with HMAC-SHA256 under DISPATCH_SECRET. It names no person: an id and a signature.
type UnsubscribeToken struct {
	MemberID int64
	Channel  Channel
}

const tokenVersion = "u1"

// SignUnsubscribe returns the token for the member and channel: "u1.<id>.<channel>.<mac>".
func SignUnsubscribe(secret []byte, memberID int64, ch Channel) string {
	body := tokenVersion + "." + strconv.FormatInt(memberID, 10) + "." + string(ch)
	return body + "." + base64.RawURLEncoding.EncodeToString(unsubscribeMAC(secret, body))
}

// VerifyUnsubscribe checks a token's signature and returns what it names. A forged, altered or
// malformed token is ErrInvalid; the comparison takes the same time however much of it matches.
func VerifyUnsubscribe(secret []byte, token string) (UnsubscribeToken, error) {
	bad := Errorf(ErrInvalid, "the unsubscribe link is not valid")
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return UnsubscribeToken{}, bad
	}
	body, sig := token[:i], token[i+1:]
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, unsubscribeMAC(secret, body)) {
		return UnsubscribeToken{}, bad
	}
	parts := strings.Split(body, ".")
	if len(parts) != 3 || parts[0] != tokenVersion {
		return UnsubscribeToken{}, bad
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return UnsubscribeToken{}, bad
	}
	ch, err := ParseChannel(parts[2])
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
