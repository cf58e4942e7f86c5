package credential

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTAudience is the audience of the user JWT credentials callvault issues
// for the jwt-bearer grant.
const JWTAudience = "callvault:oauth:jwt-bearer"

// JWTClaims are the claims of a user JWT credential: sub is the user id,
// jti the credential id, tid the tenant.
type JWTClaims struct {
	Tenant string `json:"tid"`
	jwt.RegisteredClaims
}

// SignJWT returns a compact EdDSA-signed JWT for a user credential.
func SignJWT(key ed25519.PrivateKey, issuer, tenant, userID, credID string, iat, exp time.Time) (string, error) {
	c := JWTClaims{Tenant: tenant, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:   issuer,
		Subject:  userID,
		Audience: jwt.ClaimStrings{JWTAudience},
		ID:       credID,
		IssuedAt: jwt.NewNumericDate(iat),
	}}
	if !exp.IsZero() {
		c.ExpiresAt = jwt.NewNumericDate(exp)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = KeyID(key.Public().(ed25519.PublicKey))
	return t.SignedString(key)
}

// ParseJWT verifies a user JWT credential's signature, audience and expiry
// at now and returns its claims. The caller must still check that the
// credential (jti) exists and is not revoked.
func ParseJWT(pub ed25519.PublicKey, token string, now time.Time) (*JWTClaims, error) {
	var c JWTClaims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		return pub, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithAudience(JWTAudience),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithIssuedAt(),
	)
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	if c.Subject == "" || c.ID == "" || c.Tenant == "" {
		return nil, errors.New("jwt: sub, jti and tid are required")
	}
	return &c, nil
}

// AccessAudience is the audience of signed access tokens: JWTs that wrap an
// opaque access token for clients that expect a signed bearer token (8x8's
// Work Analytics). The wrapped token stays the credential: revoking it
// revokes the JWT at once.
const AccessAudience = "callvault:access"

// accessClaims are the claims of a signed access token; Token is the
// opaque access token it wraps.
type accessClaims struct {
	Tenant string `json:"tid"`
	Token  string `json:"cvt"`
	jwt.RegisteredClaims
}

// SignAccessToken wraps an opaque access token in an EdDSA-signed JWT.
func SignAccessToken(key ed25519.PrivateKey, issuer, tenant, subject, token string, iat, exp time.Time) (string, error) {
	c := accessClaims{Tenant: tenant, Token: token, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: subject, Audience: jwt.ClaimStrings{AccessAudience},
		IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp),
	}}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = KeyID(key.Public().(ed25519.PublicKey))
	return t.SignedString(key)
}

// OpenAccessToken verifies a signed access token at now and returns the
// opaque access token it wraps.
func OpenAccessToken(pub ed25519.PublicKey, signed string, now time.Time) (string, error) {
	var c accessClaims
	_, err := jwt.ParseWithClaims(signed, &c, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithAudience(AccessAudience),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
	)
	if err != nil {
		return "", fmt.Errorf("signed access token: %w", err)
	}
	if Check(PrefixAccessToken, c.Token) != nil {
		return "", errors.New("signed access token: no access token inside")
	}
	return c.Token, nil
}
