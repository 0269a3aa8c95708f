package sms

// Gateway is what DISPATCH_SMS_URL says about the gateway that calls dispatch back (inbound
// messages, delivery reports), for verifying its callbacks.
type Gateway struct {
	// Provider is "log" (no gateway: nothing calls back), "twilio" or "gatewayapi".
	Provider string
	// AuthToken is Twilio's auth token, with which Twilio signs its callbacks (X-Twilio-Signature);
	// "" for the other providers. GatewayAPI signs its callbacks with a secret set on its webhook,
	// which DISPATCH_SMS_URL does not carry.
	AuthToken string
}

// Gateway parses URL as Validate does (filling in the defaults) and returns the gateway it names.
// Its errors are Validate's: they name DISPATCH_SMS_URL and never repeat its credentials.
func (c *Config) Gateway() (Gateway, error) {
	e, err := c.parse()
	if err != nil {
		return Gateway{}, err
	}
	g := Gateway{Provider: e.provider}
	if e.provider == "twilio" {
		g.AuthToken = e.secret
	}
	return g, nil
}
