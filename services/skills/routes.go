/*
Copyright 2026 The skillmesh Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package skills

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillmesh/skillmesh/services/platform/app"
	"github.com/skillmesh/skillmesh/services/platform/health"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// NewServer is the skills service's HTTP API. Every route is here.
func NewServer(svc *Service, checker *health.Checker, reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /users/{user_id}/assess", handleAssess(svc))
	mux.Handle("GET /users/{user_id}/skills", handleLatest(svc))
	mux.Handle("GET /users/{user_id}/assessments", handleHistory(svc))
	mux.Handle("GET /skills", handleTaxonomy(svc))
	return app.Handler("skills", mux, checker, reg, logger, nil)
}

func handleAssess(svc *Service) http.Handler {
	return httpx.ForUser(func(w http.ResponseWriter, r *http.Request, userID string) {
		cv, err := httpx.Decode[CV](w, r)
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		a, err := svc.Assess(r.Context(), userID, cv)
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusCreated, a)
	})
}

func handleLatest(svc *Service) http.Handler {
	return httpx.ForUser(func(w http.ResponseWriter, r *http.Request, userID string) {
		a, err := svc.Latest(r.Context(), userID)
		if errors.Is(err, ErrNotFound) {
			httpx.WriteError(w, httpx.NotFound("user %q has no assessment; POST /users/%s/assess first", userID, userID))
			return
		}
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, a)
	})
}

func handleHistory(svc *Service) http.Handler {
	return httpx.ForUser(func(w http.ResponseWriter, r *http.Request, userID string) {
		list, err := svc.History(r.Context(), userID)
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		if len(list) == 0 {
			httpx.WriteError(w, httpx.NotFound("user %q has no assessment", userID))
			return
		}
		httpx.Encode(w, http.StatusOK, map[string]any{"user_id": userID, "assessments": list})
	})
}

func handleTaxonomy(svc *Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		skills := svc.Taxonomy().Skills()
		httpx.Encode(w, http.StatusOK, map[string]any{"count": len(skills), "skills": skills})
	})
}
