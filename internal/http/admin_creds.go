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
	key:     func(v *callvault.APIKey) string { return v.ID },
	name:    func(v *callvault.APIKey) string { return v.Name },
	one:     callvault.Reader.APIKey,
	all:     callvault.Reader.APIKeys,
	create:  callvault.Tx.CreateAPIKey,
	update:  callvault.Tx.UpdateAPIKey,
	revoked: func(v *callvault.APIKey) *time.Time { return &v.RevokedAt },
}

var jwtKind = &kind[callvault.JWTCredential]{
	typ: "jwtCredential", param: "id",
	key:     func(v *callvault.JWTCredential) string { return v.ID },
	name:    func(v *callvault.JWTCredential) string { return v.Name },
	one:     callvault.Reader.JWTCredential,
	all:     callvault.Reader.JWTCredentials,
	create:  callvault.Tx.CreateJWTCredential,
	update:  callvault.Tx.UpdateJWTCredential,
	revoked: func(v *callvault.JWTCredential) *time.Time { return &v.RevokedAt },
}

// revokeObj marks old revoked now in the change set and returns the audit
// record of the revocation; a second revocation is a 409.
func revokeObj[T any](s *Server, tx callvault.Tx, c *Call, k *kind[T], old *T) (*callvault.AuditRecord, error) {
	if at := *k.revoked(old); !at.IsZero() {
		return nil, callvault.Errorf(callvault.EConflict, "%s %q was already revoked at %s", k.typ, k.key(old), at.UTC().Format(time.RFC3339))
	}
	v := *old
	now := s.stamp()
	*k.revoked(&v) = now
	if k.touch != nil {
		k.touch(&v, now)
	}
	if err := k.update(tx, &v); err != nil {
		return nil, err
	}
	return changeRecord(s, c, callvault.EventRevoke, k, old, &v), nil
}

// revokeChild revokes v and adds its record to the change set (as a child
// when the change set already has a record).
func revokeChild[T any](s *Server, tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, k *kind[T], v *T) error {
	rec, err := revokeObj(s, tx, c, k, v)
	if err == nil {
		add(rec)
	}
	return err
}

// revokeHandler serves DELETE of a credential: it is revoked, not deleted.
func revokeHandler[T any](s *Server, k *kind[T]) handlerFunc {
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
			return revokeChild(s, tx, add, c, k, old)
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) handleAPIKeyRevoke(w http.ResponseWriter, r *http.Request, c *Call) error {
	return revokeHandler(s, apiKeyKind)(w, r, c)
}

func (s *Server) handleJWTRevoke(w http.ResponseWriter, r *http.Request, c *Call) error {
	return revokeHandler(s, jwtKind)(w, r, c)
}

// revokeCredentialsOf revokes, as child records of the change set, the
// unrevoked API keys that speak for a subject (a user or an app) of the
// call's tenant, and a user's JWT credentials.
func (s *Server) revokeCredentialsOf(ctx context.Context, tx callvault.Tx, add func(*callvault.AuditRecord), c *Call, subjectKind, id string) error {
	keys, err := tx.APIKeys(ctx, c.Tenant)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.SubjectKind == subjectKind && k.SubjectID == id && k.RevokedAt.IsZero() {
			if err := revokeChild(s, tx, add, c, apiKeyKind, k); err != nil {
				return err
			}
		}
	}
	if subjectKind != callvault.SubjectUser {
		return nil
	}
	creds, err := tx.JWTCredentials(ctx, c.Tenant)
	if err != nil {
		return err
	}
	for _, j := range creds {
		if j.UserID == id && j.RevokedAt.IsZero() {
			if err := revokeChild(s, tx, add, c, jwtKind, j); err != nil {
				return err
			}
		}
	}
	return nil
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
	if err := firstErr(required("name", in.Name), required("subjectKind", in.SubjectKind),
		required("subjectId", in.SubjectID), required("scopes", in.Scopes)); err != nil {
		return err
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
	if err := firstErr(required("userId", in.UserID), required("name", in.Name)); err != nil {
		return err
	}
	return firstErr(
		checkRefID("userId", *in.UserID),
		checkName("name", *in.Name),
		optional(in.AppID, func(v string) error { return checkRefID("appId", v) }),
	)
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
