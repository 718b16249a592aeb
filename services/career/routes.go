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

package career

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skillmesh/skillmesh/services/platform/app"
	"github.com/skillmesh/skillmesh/services/platform/health"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// planRequest is the body of POST /users/{user_id}/career-plan.
type planRequest struct {
	TargetRole string `json:"target_role"`
}

func (p planRequest) Validate() error {
	if strings.TrimSpace(p.TargetRole) == "" {
		return httpx.BadRequest("target_role is required; GET /roles lists them")
	}
	return nil
}

// NewServer is the career service's HTTP API. Every route is here.
func NewServer(svc *Service, checker *health.Checker, reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /roles", handleRoles(svc))
	mux.Handle("GET /roles/{role_id}", handleRole(svc))
	mux.Handle("POST /users/{user_id}/career-plan", handleMakePlan(svc))
	mux.Handle("GET /users/{user_id}/career-plan", handleGetPlan(svc))
	return app.Handler("career", mux, checker, reg, logger, nil)
}

func handleRoles(svc *Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		roles, err := svc.Roles(r.Context())
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, map[string]any{"count": len(roles), "roles": roles})
	})
}

func handleRole(svc *Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role, err := svc.Role(r.Context(), r.PathValue("role_id"))
		if errors.Is(err, ErrUnknownRole) {
			httpx.WriteError(w, httpx.NotFound("no role %q; GET /roles lists them", r.PathValue("role_id")))
			return
		}
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, role)
	})
}

func handleMakePlan(svc *Service) http.Handler {
	return httpx.ForUser(func(w http.ResponseWriter, r *http.Request, userID string) {
		req, err := httpx.Decode[planRequest](w, r)
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		plan, err := svc.MakePlan(r.Context(), userID, req.TargetRole)
		if errors.Is(err, ErrUnknownRole) {
			httpx.WriteError(w, httpx.BadRequest("target_role %q is not a known role; GET /roles lists them", req.TargetRole))
			return
		}
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, plan)
	})
}

func handleGetPlan(svc *Service) http.Handler {
	return httpx.ForUser(func(w http.ResponseWriter, r *http.Request, userID string) {
		plan, err := svc.Plan(r.Context(), userID)
		if errors.Is(err, ErrNoPlan) {
			httpx.WriteError(w, httpx.NotFound("user %q has no career plan; POST a target_role first", userID))
			return
		}
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, plan)
	})
}
