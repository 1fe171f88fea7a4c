# syntax=docker/dockerfile:1
#
# FeatureAug Functions app image (Azure Functions, .NET 10 isolated worker), CPU or CUDA:
#   docker build --build-arg TORCH_FLAVOR=cpu        -t featureaug-functions:cpu .
#   docker build --build-arg TORCH_FLAVOR=cuda-linux -t featureaug-functions:cuda .
# Built from the repository root (it needs Directory.*.props/targets and build/). infra/README.md
# explains the base image tags and how the image is deployed.

# ---- build: publish the Functions app with the chosen TorchSharp native package ----------------
FROM mcr.microsoft.com/dotnet/sdk:10.0-azurelinux3.0 AS build
# cpu -> TorchSharp-cpu; cuda-linux -> TorchSharp-cuda-linux (libtorch with the CUDA runtime inside;
# the GPU host supplies only the driver).
ARG TORCH_FLAVOR=cpu
WORKDIR /src

# Restore in its own layer so code edits do not re-download libtorch (gigabytes for CUDA).
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/FeatureAug.Core/FeatureAug.Core.csproj src/FeatureAug.Core/
COPY src/FeatureAug.Workflow/FeatureAug.Workflow.csproj src/FeatureAug.Workflow/
COPY src/FeatureAug.Functions/FeatureAug.Functions.csproj src/FeatureAug.Functions/
RUN dotnet restore src/FeatureAug.Functions/FeatureAug.Functions.csproj \
        -r linux-x64 -p:TorchSharpFlavor=$TORCH_FLAVOR

COPY src/ src/
# linux-x64 keeps other platforms' libtorch out of the image. TorchSharpWeakGlibcxx=true makes the
# publish step mark libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak whatever libstdc++ this
# build stage has (Directory.Build.targets), so the library also loads on older runtime images.
RUN dotnet publish src/FeatureAug.Functions/FeatureAug.Functions.csproj \
        -c Release -r linux-x64 --self-contained false \
        -p:TorchSharpFlavor=$TORCH_FLAVOR -p:TorchSharpWeakGlibcxx=true \
        -o /app/publish

# ---- runtime: the Functions host for .NET 10 isolated workers --------------------------------
FROM mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0-azurelinux3 AS runtime
# Port 8080 because a non-root user cannot bind port 80. NVIDIA_* tell the NVIDIA container runtime
# on GPU hosts to mount the driver; CPU hosts ignore them.
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    ASPNETCORE_URLS=http://+:8080 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# The host writes beneath its install directory (e.g. Secrets/) and under HOME=/home (logs, data);
# the .NET base images define the unprivileged APP_UID. App files stay root-owned and read-only.
RUN mkdir -p /home/site/wwwroot \
    && chown -R "$APP_UID" /azure-functions-host /home
COPY --from=build /app/publish /home/site/wwwroot
USER $APP_UID
EXPOSE 8080
