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

package learning

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

type enrollRequest struct {
	CourseID string `json:"course_id"`
}

func (e enrollRequest) Validate() error {
	if strings.TrimSpace(e.CourseID) == "" {
		return httpx.BadRequest("course_id is required; GET /courses lists them")
	}
	return nil
}

type progressRequest struct {
	Progress *int `json:"progress"`
}

func (p progressRequest) Validate() error {
	if p.Progress == nil || *p.Progress < 0 || *p.Progress > 100 {
		return httpx.BadRequest("progress is required, a whole number from 0 to 100")
	}
	return nil
}

// NewServer is the learning service's HTTP API. Every route is here.
func NewServer(svc *Service, checker *health.Checker, reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /courses", handleCourses(svc))
	mux.Handle("GET /courses/{course_id}", handleCourse(svc))
	mux.Handle("POST /users/{user_id}/enrollments", handleEnroll(svc))
	mux.Handle("PUT /users/{user_id}/enrollments/{course_id}", handleProgress(svc))
	mux.Handle("GET /users/{user_id}/courses", handleEnrollments(svc))
	mux.Handle("GET /users/{user_id}/recommendations", handleRecommendations(svc))
	return app.Handler("learning", mux, checker, reg, logger, nil)
}

func handleCourses(svc *Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		courses, err := svc.Courses(r.Context(), r.URL.Query().Get("skill"))
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, map[string]any{"count": len(courses), "courses": courses})
	})
}

func handleCourse(svc *Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := svc.Course(r.Context(), r.PathValue("course_id"))
		if errors.Is(err, ErrUnknownCourse) {
			httpx.WriteError(w, httpx.NotFound("no course %q", r.PathValue("course_id")))
			return
		}
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, c)
	})
}

func handleEnroll(svc *Service) http.Handler {
	return httpx.ForUser(func(w http.ResponseWriter, r *http.Request, userID string) {
		req, err := httpx.Decode[enrollRequest](w, r)
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		e, err := svc.Enroll(r.Context(), userID, req.CourseID)
		switch {
		case errors.Is(err, ErrUnknownCourse):
			httpx.WriteError(w, httpx.BadRequest("course_id %q is not in the catalogue; GET /courses lists them", req.CourseID))
		case errors.Is(err, ErrAlreadyEnrolled):
			httpx.WriteError(w, httpx.Conflict("user %q is already enrolled in %q", userID, req.CourseID))
		case err != nil:
			httpx.WriteError(w, err)
		default:
			httpx.Encode(w, http.StatusCreated, e)
		}
	})
}

func handleProgress(svc *Service) http.Handler {
	return httpx.ForUser(func(w http.ResponseWriter, r *http.Request, userID string) {
		req, err := httpx.Decode[progressRequest](w, r)
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		courseID := r.PathValue("course_id")
		if err := svc.SetProgress(r.Context(), userID, courseID, *req.Progress); errors.Is(err, ErrNotEnrolled) {
			httpx.WriteError(w, httpx.NotFound("user %q is not enrolled in %q", userID, courseID))
			return
		} else if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, map[string]any{"user_id": userID, "course_id": courseID, "progress": *req.Progress})
	})
}

func handleEnrollments(svc *Service) http.Handler {
	return httpx.ForUser(func(w http.ResponseWriter, r *http.Request, userID string) {
		list, err := svc.Enrollments(r.Context(), userID)
		if errors.Is(err, ErrUnknownUser) {
			httpx.WriteError(w, httpx.NotFound("user %q has no enrolments and no career plan", userID))
			return
		}
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, map[string]any{"user_id": userID, "courses": list})
	})
}

func handleRecommendations(svc *Service) http.Handler {
	return httpx.ForUser(func(w http.ResponseWriter, r *http.Request, userID string) {
		rec, err := svc.Recommend(r.Context(), userID)
		if errors.Is(err, ErrNoPlanReceivedYet) || errors.Is(err, ErrUnknownUser) {
			httpx.WriteError(w, httpx.NotFound("no career plan for user %q has reached learning yet", userID))
			return
		}
		if err != nil {
			httpx.WriteError(w, err)
			return
		}
		httpx.Encode(w, http.StatusOK, rec)
	})
}
