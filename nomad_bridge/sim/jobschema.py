"""The Go types Nomad decodes request bodies into (package `api`, plus two `structs` types).

Only the shape matters here: which keys exist and what JSON type each must have. Nested
blocks the simulator never interprets (task services, templates, volumes, ...) are `RAW`,
kept as sent, so they round-trip without the simulator having to model them; a group's
networks and services are typed, since Nomad returns them with every field (`group_blocks`).
"""

from __future__ import annotations

from nomad_bridge.sim.gojson import (
    BOOL,
    DURATION,
    INT,
    INT64,
    RAW,
    STRING,
    STRING_MAP,
    STRINGS,
    UINT64,
    ListOf,
    MapOf,
    Struct,
)

UPDATE_STRATEGY = Struct(
    "api.UpdateStrategy",
    {
        "Stagger": DURATION,
        "MaxParallel": INT,
        "HealthCheck": STRING,
        "MinHealthyTime": DURATION,
        "HealthyDeadline": DURATION,
        "ProgressDeadline": DURATION,
        "Canary": INT,
        "AutoRevert": BOOL,
        "AutoPromote": BOOL,
    },
)

SCALING_POLICY = Struct(
    "api.ScalingPolicy",
    {
        "ID": STRING,
        "Namespace": STRING,
        "Type": STRING,
        "Target": STRING_MAP,
        "Min": INT64,
        "Max": INT64,
        "Policy": MapOf(RAW),
        "Enabled": BOOL,
        "CreateIndex": UINT64,
        "ModifyIndex": UINT64,
    },
)

RESTART_POLICY = Struct(
    "api.RestartPolicy",
    {
        "Interval": DURATION,
        "Attempts": INT,
        "Delay": DURATION,
        "Mode": STRING,
        "RenderTemplates": BOOL,
    },
)

RESCHEDULE_POLICY = Struct(
    "api.ReschedulePolicy",
    {
        "Attempts": INT,
        "Interval": DURATION,
        "Delay": DURATION,
        "DelayFunction": STRING,
        "MaxDelay": DURATION,
        "Unlimited": BOOL,
    },
)

EPHEMERAL_DISK = Struct("api.EphemeralDisk", {"Sticky": BOOL, "Migrate": BOOL, "SizeMB": INT})

MIGRATE_STRATEGY = Struct(
    "api.MigrateStrategy",
    {
        "MaxParallel": INT,
        "HealthCheck": STRING,
        "MinHealthyTime": DURATION,
        "HealthyDeadline": DURATION,
    },
)

RESOURCES = Struct(
    "api.Resources",
    {
        "CPU": INT,
        "Cores": INT,
        "MemoryMB": INT,
        "MemoryMaxMB": INT,
        "DiskMB": INT,
        "Networks": RAW,
        "Devices": RAW,
        "IOPS": INT,
        "NUMA": RAW,
        "SecretsMB": INT,
    },
)

PORT = Struct("api.Port", {"Label": STRING, "Value": INT, "To": INT, "HostNetwork": STRING})

DNS_CONFIG = Struct("api.DNSConfig", {"Servers": STRINGS, "Searches": STRINGS, "Options": STRINGS})

NETWORK_RESOURCE = Struct(
    "api.NetworkResource",
    {
        "Mode": STRING,
        "Device": STRING,
        "CIDR": STRING,
        "IP": STRING,
        "Hostname": STRING,
        "DNS": DNS_CONFIG,
        "ReservedPorts": ListOf(PORT),
        "DynamicPorts": ListOf(PORT),
        "MBits": INT,
    },
)

SERVICE = Struct(
    "api.Service",
    {
        "Name": STRING,
        "Tags": STRINGS,
        "CanaryTags": STRINGS,
        "EnableTagOverride": BOOL,
        "PortLabel": STRING,
        "AddressMode": STRING,
        "Address": STRING,
        "Checks": RAW,
        "CheckRestart": RAW,
        "Connect": RAW,
        "Meta": STRING_MAP,
        "CanaryMeta": STRING_MAP,
        "TaggedAddresses": STRING_MAP,
        "TaskName": STRING,
        "OnUpdate": STRING,
        "Identity": RAW,
        "Provider": STRING,
        "Cluster": STRING,
    },
)

LOG_CONFIG = Struct(
    "api.LogConfig",
    {"MaxFiles": INT, "MaxFileSizeMB": INT, "Enabled": BOOL, "Disabled": BOOL},
)

TASK_RAW_FIELDS = (
    "Lifecycle",
    "Constraints",
    "Affinities",
    "Services",
    "Artifacts",
    "Vault",
    "Consul",
    "Templates",
    "DispatchPayload",
    "VolumeMounts",
    "CSIPluginConfig",
    "ScalingPolicies",
    "Identity",
    "Identities",
    "Actions",
    "Schedule",
)

TASK = Struct(
    "api.Task",
    {
        "Name": STRING,
        "Driver": STRING,
        "User": STRING,
        "Config": MapOf(RAW),
        "Env": STRING_MAP,
        "Resources": RESOURCES,
        "RestartPolicy": RESTART_POLICY,
        "Meta": STRING_MAP,
        "KillTimeout": DURATION,
        "LogConfig": LOG_CONFIG,
        "Leader": BOOL,
        "ShutdownDelay": DURATION,
        "KillSignal": STRING,
        "Kind": STRING,
        **{name: RAW for name in TASK_RAW_FIELDS},
    },
)

GROUP_RAW_FIELDS = (
    "Constraints",
    "Affinities",
    "Spreads",
    "Volumes",
    "Disconnect",
    "Consul",
)

TASK_GROUP = Struct(
    "api.TaskGroup",
    {
        "Name": STRING,
        "Count": INT,
        "Tasks": ListOf(TASK),
        "RestartPolicy": RESTART_POLICY,
        "ReschedulePolicy": RESCHEDULE_POLICY,
        "EphemeralDisk": EPHEMERAL_DISK,
        "Update": UPDATE_STRATEGY,
        "Migrate": MIGRATE_STRATEGY,
        "Meta": STRING_MAP,
        "ShutdownDelay": DURATION,
        "StopAfterClientDisconnect": DURATION,
        "MaxClientDisconnect": DURATION,
        "PreventRescheduleOnLost": BOOL,
        "Scaling": SCALING_POLICY,
        "Networks": ListOf(NETWORK_RESOURCE),
        "Services": ListOf(SERVICE),
        **{name: RAW for name in GROUP_RAW_FIELDS},
    },
)

PERIODIC = Struct(
    "api.PeriodicConfig",
    {
        "Enabled": BOOL,
        "Spec": STRING,
        "Specs": STRINGS,
        "SpecType": STRING,
        "ProhibitOverlap": BOOL,
        "TimeZone": STRING,
    },
)

PARAMETERIZED = Struct(
    "api.ParameterizedJobConfig",
    {"Payload": STRING, "MetaRequired": STRINGS, "MetaOptional": STRINGS},
)

JOB = Struct(
    "api.Job",
    {
        "Region": STRING,
        "Namespace": STRING,
        "ID": STRING,
        "Name": STRING,
        "Type": STRING,
        "Priority": INT,
        "AllAtOnce": BOOL,
        "Datacenters": STRINGS,
        "NodePool": STRING,
        "Constraints": RAW,
        "Affinities": RAW,
        "TaskGroups": ListOf(TASK_GROUP),
        "Update": UPDATE_STRATEGY,
        "Multiregion": RAW,
        "Spreads": RAW,
        "Periodic": PERIODIC,
        "ParameterizedJob": PARAMETERIZED,
        "Reschedule": RAW,
        "Migrate": RAW,
        "Meta": STRING_MAP,
        "UI": RAW,
        "Stop": BOOL,
        "ParentID": STRING,
        "Dispatched": BOOL,
        "DispatchIdempotencyToken": STRING,
        "Payload": STRING,
        "ConsulNamespace": STRING,
        "VaultNamespace": STRING,
        "ConsulToken": STRING,
        "VaultToken": STRING,
        "NomadTokenID": STRING,
        "Status": STRING,
        "StatusDescription": STRING,
        "Stable": BOOL,
        "Version": UINT64,
        "SubmitTime": INT64,
        "CreateIndex": UINT64,
        "ModifyIndex": UINT64,
        "JobModifyIndex": UINT64,
        "VersionTag": RAW,
    },
)

JOB_REGISTER_REQUEST = Struct(
    "api.JobRegisterRequest",
    {
        "Submission": RAW,
        "Job": JOB,
        "EnforceIndex": BOOL,
        "JobModifyIndex": UINT64,
        "PolicyOverride": BOOL,
        "PreserveCounts": BOOL,
        "EvalPriority": INT,
        "Region": STRING,
        "Namespace": STRING,
        "SecretID": STRING,
    },
)

SCALING_REQUEST = Struct(
    "api.ScalingRequest",
    {
        "Count": INT64,
        "Target": STRING_MAP,
        "Error": BOOL,
        "Message": STRING,
        "Meta": MapOf(RAW),
        "PolicyOverride": BOOL,
        "JobModifyIndex": UINT64,
        "EnforceIndex": BOOL,
        "Region": STRING,
        "Namespace": STRING,
        "SecretID": STRING,
    },
)

VARIABLE = Struct(
    "structs.VariableDecrypted",
    {
        "Namespace": STRING,
        "Path": STRING,
        "CreateIndex": UINT64,
        "ModifyIndex": UINT64,
        "CreateTime": INT64,
        "ModifyTime": INT64,
        "Items": STRING_MAP,
        "Lock": RAW,
    },
)
