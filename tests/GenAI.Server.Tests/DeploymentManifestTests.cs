using System.Diagnostics;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace GenAI.Server.Tests;

/// <summary>
/// The deployment files as their tools read them: every Kustomize overlay under deploy/k8s rendered by <c>kubectl
/// kustomize</c> (the real renderer, run as a process) and each object deserialized strictly (unknown fields fail) into
/// Kubernetes' own typed models from the KubernetesClient library, then the fields the Kubernetes API reference marks
/// required (the v21 models no longer check them themselves), then the references between objects (volumes, settings, Secret, Service, autoscaler) and each overlay's promises. The
/// compose file is read with a YAML parser (merge keys resolved) for what <c>--scale</c> needs.
/// </summary>
public sealed class DeploymentManifestTests
{
    private static string K8s => Path.Combine(TestPaths.RepoRoot, "deploy", "k8s");

    [SkippableFact]
    public void TheCpuOverlayRendersValidObjectsThatFitTogether()
    {
        var objects = Render(Path.Combine(K8s, "overlays", "cpu"));
        CheckCommon(objects);
        var worker = Deployment(objects, "genai-worker");
        Assert.Equal("genai:cpu", worker.Spec.Template.Spec.Containers.Single().Image);
        Assert.DoesNotContain(objects.OfType<V1Deployment>(), d => d.Spec.Template.Spec.Containers.Any(c => c.Resources?.Limits?.ContainsKey("nvidia.com/gpu") == true));
    }

    [SkippableFact]
    public void TheGpuOverlayPutsWorkersOnGpuNodesWithTheCudaImage()
    {
        var objects = Render(Path.Combine(K8s, "overlays", "gpu"));
        CheckCommon(objects);
        var pod = Deployment(objects, "genai-worker").Spec.Template.Spec;
        var worker = pod.Containers.Single();
        Assert.Equal("genai:cuda", worker.Image);
        Assert.Equal(new ResourceQuantity("1"), worker.Resources.Limits["nvidia.com/gpu"]);
        Assert.Equal("true", pod.NodeSelector["nvidia.com/gpu.present"]);
        Assert.Contains(pod.Tolerations, t => t.Key == "nvidia.com/gpu" && t.Effect == "NoSchedule");
        Assert.Equal("cuda", worker.Env.Single(e => e.Name == "GenAI__Device").Value);
        Assert.Equal("genai:cpu", Deployment(objects, "genai-api").Spec.Template.Spec.Containers.Single().Image); // the API stays on CPU
    }

    [SkippableFact]
    public void TheServiceMonitorComponentScrapesTheApiMetrics()
    {
        // An overlay as a user writes it: the cpu overlay plus the optional component.
        string overlay = Directory.CreateTempSubdirectory("genai-kustomize-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(overlay, "kustomization.yaml"), $"""
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - {Path.GetRelativePath(overlay, Path.Combine(K8s, "overlays", "cpu"))}
                components:
                  - {Path.GetRelativePath(overlay, Path.Combine(K8s, "components", "servicemonitor"))}
                """);
            var objects = Render(overlay);
            CheckCommon(objects);
            var monitor = objects.OfType<ServiceMonitor>().Single();
            var service = objects.OfType<V1Service>().Single();
            Assert.All(monitor.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, service.Metadata.Labels[l.Key]));
            var endpoint = monitor.Spec.Endpoints.Single();
            Assert.Equal("/metrics", endpoint.Path);
            Assert.Contains(service.Spec.Ports, p => p.Name == endpoint.Port);
        }
        finally
        {
            Directory.Delete(overlay, recursive: true);
        }
    }

    [Fact]
    public void TheComposeFileScalesTheApiAndTheWorkerBehindOneGateway()
    {
        using var reader = new StringReader(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docker", "compose.yaml")));
        var compose = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(new MergingParser(new Parser(reader)));
        var services = (Dictionary<object, object>)compose["services"];
        var postgres = Map(services["postgres"]);
        Assert.StartsWith("postgres:", (string)postgres["image"]);
        Assert.True(postgres.ContainsKey("healthcheck"));
        foreach (string name in new[] { "api", "worker" })
        {
            var service = Map(services[name]);
            // --scale N needs N containers: no fixed name, no fixed host port.
            Assert.False(service.ContainsKey("container_name"), name);
            Assert.False(service.ContainsKey("ports"), $"{name} publishes host ports; only the gateway may");
            Assert.Equal("genai:cpu", service["image"]);
            Assert.Contains("models:/models", ((List<object>)service["volumes"]).Cast<string>());
            Assert.Contains("data:/data", ((List<object>)service["volumes"]).Cast<string>());
            Assert.StartsWith("postgres://genai:", (string)Map(service["environment"])["GenAI__JobStore"]);
            Assert.Equal("service_healthy", Map(Map(service["depends_on"])["postgres"])["condition"]);
        }
        Assert.Equal("false", Map(Map(services["api"])["environment"])["GenAI__InProcessWorker"]);
        var gateway = Map(services["gateway"]);
        Assert.Equal("${GENAI_PORT:-8080}:8080", ((List<object>)gateway["ports"]).Single());
        string config = ((List<object>)gateway["volumes"]).Cast<string>().Single().Split(':')[0];
        string nginx = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docker", config));
        Assert.Contains("proxy_pass $api;", nginx); // a variable: "api" is resolved again as replicas come and go
        Assert.Contains("set $api http://api:8080;", nginx);
        Assert.Equal(["models", "data", "postgres"], Map(compose["volumes"]).Keys.Cast<string>());
    }

    private static Dictionary<object, object> Map(object node) => Assert.IsType<Dictionary<object, object>>(node);

    /// <summary>What every overlay must hold, whatever it changes.</summary>
    private static void CheckCommon(List<object> objects)
    {
        foreach (var o in objects) CheckRequiredFields(o);
        var claims = objects.OfType<V1PersistentVolumeClaim>().ToDictionary(c => c.Metadata.Name);
        Assert.Equal(["genai-data", "genai-models"], claims.Keys.Order());
        Assert.All(claims.Values, c => Assert.Equal(["ReadWriteMany"], c.Spec.AccessModes));
        var settings = objects.OfType<V1ConfigMap>().Single();
        Assert.Equal("/models", settings.Data["GenAI__ModelsRoot"]);
        Assert.Equal("/data", settings.Data["GenAI__DataRoot"]);

        foreach (var deployment in objects.OfType<V1Deployment>())
        {
            var pod = deployment.Spec.Template;
            Assert.All(deployment.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, pod.Metadata.Labels[l.Key]));
            foreach (var volume in pod.Spec.Volumes) Assert.Contains(volume.PersistentVolumeClaim.ClaimName, claims.Keys);
            foreach (var container in pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []))
            {
                foreach (var mount in container.VolumeMounts) Assert.Contains(pod.Spec.Volumes, v => v.Name == mount.Name);
            }
            var main = pod.Spec.Containers.Single();
            Assert.NotNull(main.Resources.Requests["cpu"]);
            Assert.NotNull(main.Resources.Limits["memory"]);
            Assert.Equal(settings.Metadata.Name, main.EnvFrom.Single().ConfigMapRef.Name); // the generated (hashed) name
            var store = main.Env.Single(e => e.Name == "GenAI__JobStore").ValueFrom.SecretKeyRef;
            Assert.Equal(("genai-postgres", "connection"), (store.Name, store.Key));
        }

        var api = Deployment(objects, "genai-api");
        var server = api.Spec.Template.Spec.Containers.Single();
        Assert.True(api.Spec.Replicas >= 2);
        Assert.Equal("/health/ready", server.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/health", server.LivenessProbe.HttpGet.Path);
        Assert.Equal("false", server.Env.Single(e => e.Name == "GenAI__InProcessWorker").Value);
        Assert.Contains("run", Deployment(objects, "genai-worker").Spec.Template.Spec.Containers.Single().Args);

        var service = objects.OfType<V1Service>().Single();
        Assert.All(service.Spec.Selector, l => Assert.Equal(l.Value, api.Spec.Template.Metadata.Labels[l.Key]));
        Assert.Contains(server.Ports, p => p.Name == service.Spec.Ports.Single().TargetPort.Value);

        var autoscaler = objects.OfType<V2HorizontalPodAutoscaler>().Single();
        Assert.Equal(("Deployment", "genai-api"), (autoscaler.Spec.ScaleTargetRef.Kind, autoscaler.Spec.ScaleTargetRef.Name));
        Assert.True(autoscaler.Spec.MinReplicas >= 2 && autoscaler.Spec.MaxReplicas > autoscaler.Spec.MinReplicas);
    }

    /// <summary>The fields the API server would reject an object without (Kubernetes API reference, "required").</summary>
    private static void CheckRequiredFields(object o)
    {
        var metadata = ((IKubernetesObject<V1ObjectMeta>)o).Metadata;
        Assert.False(string.IsNullOrEmpty(metadata?.Name), $"{o.GetType().Name} without metadata.name");
        string what = $"{((IKubernetesObject)o).Kind} {metadata!.Name}";
        switch (o)
        {
            case V1Deployment d:
                Assert.True(d.Spec?.Selector is not null && d.Spec.Template?.Spec is not null, $"{what}: spec.selector and spec.template are required");
                var pod = d.Spec.Template.Spec;
                Assert.True(pod.Containers is { Count: > 0 }, $"{what}: containers are required");
                foreach (var c in pod.Containers.Concat(pod.InitContainers ?? []))
                {
                    Assert.False(string.IsNullOrEmpty(c.Name) || string.IsNullOrEmpty(c.Image), $"{what}: a container needs a name and an image");
                    Assert.All(c.Ports ?? [], p => Assert.True(p.ContainerPort > 0, $"{what}: containerPort is required"));
                    Assert.All(c.Env ?? [], e => Assert.False(string.IsNullOrEmpty(e.Name), $"{what}: env name is required"));
                    Assert.All(c.VolumeMounts ?? [], m => Assert.False(string.IsNullOrEmpty(m.Name) || string.IsNullOrEmpty(m.MountPath), $"{what}: volumeMount name and mountPath"));
                    foreach (var probe in new[] { c.ReadinessProbe, c.LivenessProbe, c.StartupProbe }.OfType<V1Probe>())
                    {
                        Assert.True(probe.HttpGet?.Port is not null, $"{what}: httpGet.port is required");
                    }
                    Assert.All(c.EnvFrom ?? [], e => Assert.False(string.IsNullOrEmpty(e.ConfigMapRef?.Name ?? e.SecretRef?.Name), $"{what}: envFrom names its source"));
                }
                Assert.All(pod.Volumes ?? [], v => Assert.False(string.IsNullOrEmpty(v.Name), $"{what}: volume name is required"));
                break;
            case V1Service svc:
                Assert.True(svc.Spec?.Ports is { Count: > 0 } && svc.Spec.Ports.All(p => p.Port > 0), $"{what}: ports[].port is required");
                break;
            case V1PersistentVolumeClaim pvc:
                Assert.True(pvc.Spec?.AccessModes is { Count: > 0 } && pvc.Spec.Resources?.Requests?.ContainsKey("storage") == true, $"{what}: accessModes and a storage request");
                break;
            case V2HorizontalPodAutoscaler hpa:
                Assert.True(hpa.Spec?.ScaleTargetRef is { Kind.Length: > 0, Name.Length: > 0 } && hpa.Spec.MaxReplicas > 0, $"{what}: scaleTargetRef and maxReplicas are required");
                Assert.All(hpa.Spec.Metrics ?? [], m => Assert.False(string.IsNullOrEmpty(m.Type), $"{what}: metrics[].type is required"));
                break;
        }
    }

    private static V1Deployment Deployment(List<object> objects, string name) => objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == name);

    /// <summary>
    /// <c>kubectl kustomize DIR</c>, every document loaded strictly into its typed model (the ServiceMonitor, a Prometheus
    /// Operator resource that the library does not know, into <see cref="ServiceMonitor"/> below).
    /// </summary>
    private static List<object> Render(string kustomization)
    {
        string? kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        Skip.If(kubectl is null, "kubectl is not installed (it renders the Kustomize overlays; .ci/run installs Debian's kubectl when it is missing)");
        var start = new ProcessStartInfo(kubectl!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "kustomize", kustomization }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        string yaml = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"kubectl kustomize {kustomization}: {errors.Result}");
        var objects = KubernetesYaml.LoadAllFromString(yaml, new Dictionary<string, Type> { ["monitoring.coreos.com/v1/ServiceMonitor"] = typeof(ServiceMonitor) }, strict: true);
        Assert.NotEmpty(objects);
        Assert.All(objects, o => Assert.IsAssignableFrom<IKubernetesObject<V1ObjectMeta>>(o));
        return objects;
    }

    /// <summary>The fields of the Prometheus Operator's ServiceMonitor (monitoring.coreos.com/v1) that the component uses.</summary>
    private sealed class ServiceMonitor : IKubernetesObject<V1ObjectMeta>
    {
        [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = "";
        [JsonPropertyName("kind")] public string Kind { get; set; } = "";
        [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
        [JsonPropertyName("spec")] public MonitorSpec Spec { get; set; } = new();
    }

    private sealed class MonitorSpec
    {
        [JsonPropertyName("selector")] public V1LabelSelector Selector { get; set; } = new();
        [JsonPropertyName("endpoints")] public List<MonitorEndpoint> Endpoints { get; set; } = [];
    }

    private sealed class MonitorEndpoint
    {
        [JsonPropertyName("port")] public string Port { get; set; } = "";
        [JsonPropertyName("path")] public string Path { get; set; } = "";
        [JsonPropertyName("interval")] public string Interval { get; set; } = "";
    }
}
