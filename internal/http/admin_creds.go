package http

import (
	"context"
	"net/http"
	"time"

	"github.com/callvault/callvault/internal/callvault"
	"github.com/callvault/callvault/internal/credential"
)

// API keys and user JWT credentials: secrets shown once at creation,
// revoked (never deleted) by DELETE.

var apiKeyKind = &kind[callvault.APIKey]{
	typ: "apiKey", param: "id",
	key:    func(v *callvault.APIKey) string { return v.ID },
	name:   func(v *callvault.APIKey) string { return v.Name },
	one:    callvault.Reader.APIKey,
	all:    callvault.Reader.APIKeys,
	create: callvault.Tx.CreateAPIKey,
	update: callvault.Tx.UpdateAPIKey,
}

var jwtKind = &kind[callvault.JWTCredential]{
	typ: "jwtCredential", param: "id",
	key:    func(v *callvault.JWTCredential) string { return v.ID },
	name:   func(v *callvault.JWTCredential) string { return v.Name },
	one:    callvault.Reader.JWTCredential,
	all:    callvault.Reader.JWTCredentials,
	create: callvault.Tx.CreateJWTCredential,
	update: callvault.Tx.UpdateJWTCredential,
}

// revokeObj marks old revoked at now in the change set (revokedAt points
// into an object at its RevokedAt) and returns the audit record of the
// revocation; a second revocation is a 409.
func revokeObj[T any](s *Server, tx callvault.Tx, c *Call, k *kind[T], old *T, revokedAt func(*T) *time.Time) (*T, *callvault.AuditRecord, error) {
	if at := *revokedAt(old); !at.IsZero() {
		return nil, nil, callvault.Errorf(callvault.EConflict, "%s %q was already revoked at %s", k.typ, k.key(old), at.UTC().Format(time.RFC3339))
	}
	v := *old
	now := s.stamp()
	*revokedAt(&v) = now
	if k.touch != nil {
		k.touch(&v, now)
	}
	if err := k.update(tx, &v); err != nil {
		return nil, nil, err
	}
	return &v, changeRecord(s, c, callvault.EventRevoke, k, old, &v), nil
}

// revokeHandler serves DELETE of a credential: it is revoked, not deleted.
func revokeHandler[T any](s *Server, k *kind[T], revokedAt func(*T) *time.Time) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		key, err := k.pathKey(r)
		if err != nil {
			return err
		}
		ctx := r.Context()
		err = s.change(ctx, func(tx callvault.Tx, add func(*callvault.AuditRecord)) error {
			old, err := k.one(tx, ctx, c.Tenant, key)
			if err != nil {
				return err
			}
			_, rec, err := revokeObj(s, tx, c, k, old, revokedAt)
			if err != nil {
				return err
			}
			add(rec)
			return nil
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func apiKeyRevokedAt(k *callvault.APIKey) *time.Time     { return &k.RevokedAt }
func jwtRevokedAt(j *callvault.JWTCredential) *time.Time { return &j.RevokedAt }
func consentRevokedAt(cs *callvault.Consent) *time.Time  { return &cs.RevokedAt }
func (s *Server) handleAPIKeyRevoke(w http.ResponseWriter, r *http.Request, c *Call) error {
	return revokeHandler(s, apiKeyKind, apiKeyRevokedAt)(w, r, c)
}

func (s *Server) handleJWTRevoke(w http.ResponseWriter, r *http.Request, c *Call) error {
	return revokeHandler(s, jwtKind, jwtRevokedAt)(w, r, c)
}

// revokeCredentialsOf revokes, as child records of the change set, the
// unrevoked API keys that speak for a subject (a user or an app) of the
// call's tenant, and a user's JWT credentials.
func (s *Server) revokeCredentialsOf(ctx context.Context, tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, kind, id string) error {
	keys, err := tx.APIKeys(ctx, c.Tenant)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.SubjectKind == kind && k.SubjectID == id && k.RevokedAt.IsZero() {
			if err := revokeChild(s, tx, add, c, apiKeyKind, k, apiKeyRevokedAt); err != nil {
				return err
			}
		}
	}
	if kind != callvault.SubjectUser {
		return nil
	}
	creds, err := tx.JWTCredentials(ctx, c.Tenant)
	if err != nil {
		return err
	}
	for _, j := range creds {
		if j.UserID == id && j.RevokedAt.IsZero() {
			if err := revokeChild(s, tx, add, c, jwtKind, j, jwtRevokedAt); err != nil {
				return err
			}
		}
	}
	return nil
}

// revokeChild revokes v and adds its record to the change set.
func revokeChild[T any](s *Server, tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, k *kind[T], v *T, revokedAt func(*T) *time.Time) error {
	_, rec, err := revokeObj(s, tx, c, k, v, revokedAt)
	if err == nil {
		add(rec)
	}
	return err
}

// ---- API keys ----

// apiKeyCreate is the body of POST .../api-keys.
type apiKeyCreate struct {
	Name          *string                 `json:"name"`
	SubjectKind   *string                 `json:"subjectKind"`
	SubjectID     *string                 `json:"subjectId"`
	Scopes        *[]callvault.Permission `json:"scopes"`
	ExpiresInDays *int                    `json:"expiresInDays"`
}

// check validates what needs no store.
func (in *apiKeyCreate) check(tenant string) error {
	for _, f := range []struct {
		name string
		set  bool
	}{{"name", in.Name != nil}, {"subjectKind", in.SubjectKind != nil}, {"subjectId", in.SubjectID != nil}, {"scopes", in.Scopes != nil}} {
		if !f.set {
			return callvault.FieldError(f.name, "%s is required", f.name)
		}
	}
	if err := checkName("name", *in.Name); err != nil {
		return err
	}
	if k := *in.SubjectKind; k != callvault.SubjectUser && k != callvault.SubjectApp {
		return callvault.FieldError("subjectKind", "subjectKind must be %s or %s, not %q", callvault.SubjectUser, callvault.SubjectApp, k)
	}
	if err := checkRefID("subjectId", *in.SubjectID); err != nil {
		return err
	}
	if len(*in.Scopes) == 0 {
		return callvault.FieldError("scopes", "an API key needs at least one scope")
	}
	return checkPermissions("scopes", tenant, *in.Scopes)
}

// checkSubject checks that the key's subject is a user of the tenant or
// an app whose home is the tenant, and that an app holds the key's scopes.
func (in *apiKeyCreate) checkSubject(ctx context.Context, rd callvault.Reader, tenant string) error {
	id := *in.SubjectID
	if *in.SubjectKind == callvault.SubjectUser {
		return exists("subjectId", "user", id, tenant, func() error { _, err := rd.User(ctx, tenant, id); return err })
	}
	app, err := rd.App(ctx, tenant, id)
	if callvault.IsNotFound(err) {
		return callvault.FieldError("subjectId", "tenant %q is not the home of an app %q; an API key may speak only for an app of its own tenant", tenant, id)
	}
	if err != nil {
		return err
	}
	return checkWithin("scopes", *in.Scopes, app.Scopes, "app '"+app.Name+"'")
}

// apiKeyCreated is the create response: the key and, once, its text.
type apiKeyCreated struct {
	*callvault.APIKey
	Key string `json:"key"`
}

func (s *Server) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req apiKeyCreate
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := req.check(c.Tenant); err != nil {
		return err
	}
	now := s.stamp()
	exp, err := expiresAfter("expiresInDays", now, req.ExpiresInDays)
	if err != nil {
		return err
	}
	text := credential.New(credential.PrefixAPIKey)
	k := &callvault.APIKey{TenantID: c.Tenant, ID: callvault.NewID("key"), Name: *req.Name, Hash: credential.Hash(text),
		Hint: credential.Hint(text), SubjectKind: *req.SubjectKind, SubjectID: *req.SubjectID, Scopes: *req.Scopes,
		CreatedAt: now, ExpiresAt: exp}
	ctx := r.Context()
	if err := createObj(ctx, s, c, apiKeyKind, k, func(tx callvault.Tx) error { return req.checkSubject(ctx, tx, c.Tenant) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiKeyCreated{APIKey: k, Key: text})
	return nil
}

// ---- JWT credentials ----

// jwtCreate is the body of POST .../jwt-credentials.
type jwtCreate struct {
	UserID        *string `json:"userId"`
	AppID         *string `json:"appId"`
	Name          *string `json:"name"`
	ExpiresInDays *int    `json:"expiresInDays"`
}

func (in *jwtCreate) check() error {
	if err := required("userId", in.UserID); err != nil {
		return err
	}
	if err := checkRefID("userId", *in.UserID); err != nil {
		return err
	}
	if err := required("name", in.Name); err != nil {
		return err
	}
	if err := checkName("name", *in.Name); err != nil {
		return err
	}
	return optional(in.AppID, func(v string) error { return checkRefID("appId", v) })
}

// checkRefs checks that the user is one of the tenant and the app exists.
func (in *jwtCreate) checkRefs(ctx context.Context, rd callvault.Reader, tenant string) error {
	uid := *in.UserID
	if err := exists("userId", "user", uid, tenant, func() error { _, err := rd.User(ctx, tenant, uid); return err }); err != nil {
		return err
	}
	if in.AppID == nil {
		return nil
	}
	if _, err := rd.AppByID(ctx, *in.AppID); callvault.IsNotFound(err) {
		return callvault.FieldError("appId", "there is no app %q", *in.AppID)
	} else if err != nil {
		return err
	}
	return nil
}

// jwtCreated is the create response: the credential and, once, its JWT.
type jwtCreated struct {
	*callvault.JWTCredential
	JWT string `json:"jwt"`
}

func (s *Server) handleJWTCreate(w http.ResponseWriter, r *http.Request, c *Call) error {
	var req jwtCreate
	if err := decodeJSON(r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	now := s.stamp()
	exp, err := expiresAfter("expiresInDays", now, req.ExpiresInDays)
	if err != nil {
		return err
	}
	if s.cfg.JWTKey == nil {
		return callvault.Errorf(callvault.EUnavailable, "this server has no JWT signing key configured")
	}
	cred := &callvault.JWTCredential{TenantID: c.Tenant, ID: callvault.NewID("jwt"), UserID: *req.UserID,
		Name: *req.Name, CreatedAt: now, ExpiresAt: exp}
	set(&cred.AppID, req.AppID)
	token, err := credential.SignJWT(s.cfg.JWTKey, s.cfg.BaseURL, c.Tenant, cred.UserID, cred.ID, now, exp)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := createObj(ctx, s, c, jwtKind, cred, func(tx callvault.Tx) error { return req.checkRefs(ctx, tx, c.Tenant) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, jwtCreated{JWTCredential: cred, JWT: token})
	return nil
}
