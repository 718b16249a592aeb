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

package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	autoscalingv2ac "k8s.io/client-go/applyconfigurations/autoscaling/v2"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	policyv1ac "k8s.io/client-go/applyconfigurations/policy/v1"
	"k8s.io/utils/ptr"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// workload is what a Microservice and a Gateway both run: pods from one
// template in a Deployment, a Service in front of them on port "http", and,
// where asked, an autoscaler and a disruption budget. Each kind describes
// its workload; renderWorkload turns the description into children, so the
// two kinds cannot drift apart in how they do it.
type workload struct {
	Name, Namespace string
	Owner           *metav1ac.OwnerReferenceApplyConfiguration
	// Labels go on every child; Selector picks the pods.
	Labels, Selector map[string]string
	Port             int32
	ServiceType      corev1.ServiceType
	// Replicas is spec.replicas; ignored while Autoscaling is set.
	Replicas         int32
	Autoscaling      *platformv1alpha1.Autoscaling
	DisruptionBudget *platformv1alpha1.DisruptionBudget
	// Strategy of the Deployment; nil leaves Kubernetes' default.
	Strategy *appsv1ac.DeploymentStrategyApplyConfiguration
	Template *corev1ac.PodTemplateSpecApplyConfiguration
}

// workloadChildren are a workload's desired objects; HPA and PDB are nil
// when the description does not ask for them (and are then removed).
type workloadChildren struct {
	Deployment *appsv1ac.DeploymentApplyConfiguration
	Service    *corev1ac.ServiceApplyConfiguration
	HPA        *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration
	PDB        *policyv1ac.PodDisruptionBudgetApplyConfiguration
}

// renderWorkload computes a workload's children. It is pure.
func renderWorkload(w workload) workloadChildren {
	out := workloadChildren{
		Deployment: deploymentFor(w),
		Service:    serviceFor(w),
	}
	if w.Autoscaling != nil {
		out.HPA = autoscalerFor(w)
	}
	if impliesDisruptionBudget(w.Replicas, w.Autoscaling, w.DisruptionBudget) {
		out.PDB = disruptionBudgetFor(w)
	}
	return out
}

// impliesDisruptionBudget is the one rule for a PodDisruptionBudget, for
// both kinds: asked for explicitly, or implied because more than one pod
// runs (spec.replicas, or the autoscaler's floor) and a drain should not take
// them all at once.
func impliesDisruptionBudget(replicas int32, a *platformv1alpha1.Autoscaling, b *platformv1alpha1.DisruptionBudget) bool {
	if b != nil {
		return true
	}
	if a != nil {
		return ptr.Deref(a.MinReplicas, 1) > 1
	}
	return replicas > 1
}

func deploymentFor(w workload) *appsv1ac.DeploymentApplyConfiguration {
	spec := appsv1ac.DeploymentSpec().
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(w.Selector)).
		WithTemplate(w.Template)
	if w.Strategy != nil {
		spec.WithStrategy(w.Strategy)
	}
	// With an autoscaler the HPA owns the replica count; setting it here too
	// would make the two fight on every reconcile.
	if w.Autoscaling == nil {
		spec.WithReplicas(w.Replicas)
	}
	return appsv1ac.Deployment(w.Name, w.Namespace).
		WithLabels(w.Labels).
		WithOwnerReferences(w.Owner).
		WithSpec(spec)
}

func serviceFor(w workload) *corev1ac.ServiceApplyConfiguration {
	serviceType := w.ServiceType
	if serviceType == "" {
		serviceType = corev1.ServiceTypeClusterIP
	}
	return corev1ac.Service(w.Name, w.Namespace).
		WithLabels(w.Labels).
		WithOwnerReferences(w.Owner).
		WithSpec(corev1ac.ServiceSpec().
			WithType(serviceType).
			WithSelector(w.Selector).
			WithPorts(corev1ac.ServicePort().
				WithName(portName).
				WithProtocol(corev1.ProtocolTCP).
				WithPort(w.Port).
				WithTargetPort(intstr.FromString(portName))))
}

// autoscalerFor scales the Deployment on CPU utilisation.
func autoscalerFor(w workload) *autoscalingv2ac.HorizontalPodAutoscalerApplyConfiguration {
	a := w.Autoscaling
	return autoscalingv2ac.HorizontalPodAutoscaler(w.Name, w.Namespace).
		WithLabels(w.Labels).
		WithOwnerReferences(w.Owner).
		WithSpec(autoscalingv2ac.HorizontalPodAutoscalerSpec().
			WithScaleTargetRef(autoscalingv2ac.CrossVersionObjectReference().
				WithAPIVersion("apps/v1").WithKind("Deployment").WithName(w.Name)).
			WithMinReplicas(ptr.Deref(a.MinReplicas, 1)).
			WithMaxReplicas(a.MaxReplicas).
			WithMetrics(autoscalingv2ac.MetricSpec().
				WithType("Resource").
				WithResource(autoscalingv2ac.ResourceMetricSource().
					WithName(corev1.ResourceCPU).
					WithTarget(autoscalingv2ac.MetricTarget().
						WithType("Utilization").
						WithAverageUtilization(ptr.Deref(a.TargetCPUUtilizationPercentage, 80))))))
}

// disruptionBudgetFor keeps minAvailable pods (1 unless the spec says
// otherwise) through voluntary disruptions.
func disruptionBudgetFor(w workload) *policyv1ac.PodDisruptionBudgetApplyConfiguration {
	minAvailable := intstr.FromInt32(1)
	if w.DisruptionBudget != nil {
		minAvailable = w.DisruptionBudget.MinAvailable
	}
	return policyv1ac.PodDisruptionBudget(w.Name, w.Namespace).
		WithLabels(w.Labels).
		WithOwnerReferences(w.Owner).
		WithSpec(policyv1ac.PodDisruptionBudgetSpec().
			WithMinAvailable(minAvailable).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(w.Selector)))
}
