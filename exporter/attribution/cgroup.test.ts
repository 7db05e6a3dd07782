import { describe, expect, it } from 'vitest';
import { parseCgroupFile, type CgroupInfo } from './cgroup.js';

const ID = '3f4b7c2a9e1d8f6b5a4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a';
const ID2 = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const UID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const UID_ = UID.replaceAll('-', '_');
const STATIC_UID = '5c2e5d4d3f8b1a1b7e9f0c8a2d6e4b1f';

/** A cgroup v1 file where every controller has the same path, as container runtimes set it up. */
function v1(path: string, unified = '/'): string {
  return [
    `12:cpuset:${path}`,
    `11:memory:${path}`,
    `10:devices:${path}`,
    `9:net_cls,net_prio:${path}`,
    `8:blkio:${path}`,
    `7:freezer:${path}`,
    `6:perf_event:${path}`,
    `5:hugetlb:${path}`,
    `4:pids:${path}`,
    `3:cpu,cpuacct:${path}`,
    '2:rdma:/',
    `1:name=systemd:${path}`,
    `0::${unified}`,
    '',
  ].join('\n');
}

const v2 = (path: string): string => `0::${path}\n`;

const cases: ReadonlyArray<[string, string, CgroupInfo]> = [
  // Plain Docker (OpenPAI's older deployments, no Kubernetes).
  ['docker cgroupfs v1', v1(`/docker/${ID}`), { containerId: ID, runtime: 'docker' }],
  [
    'docker cgroupfs v1, hybrid unified line names containerd.service',
    v1(`/docker/${ID}`, '/system.slice/containerd.service'),
    { containerId: ID, runtime: 'docker' },
  ],
  [
    'docker v1 with only cpu,cpuacct and memory lines (older kernel, no unified line)',
    `4:cpu,cpuacct:/docker/${ID}\n3:memory:/docker/${ID}\n`,
    { containerId: ID, runtime: 'docker' },
  ],
  ['docker systemd driver v2', v2(`/system.slice/docker-${ID}.scope`), { containerId: ID, runtime: 'docker' }],
  ['docker systemd driver v1', v1(`/system.slice/docker-${ID}.scope`), { containerId: ID, runtime: 'docker' }],
  ['docker cgroupfs v2', v2(`/docker/${ID}`), { containerId: ID, runtime: 'docker' }],

  // Kubernetes with containerd, systemd cgroup driver.
  [
    'k8s containerd systemd v2, burstable',
    v2(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${ID}.scope`),
    { containerId: ID, podUid: UID, runtime: 'containerd', qos: 'burstable' },
  ],
  [
    'k8s containerd systemd v2, besteffort',
    v2(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/cri-containerd-${ID}.scope`),
    { containerId: ID, podUid: UID, runtime: 'containerd', qos: 'besteffort' },
  ],
  [
    'k8s containerd systemd v2, guaranteed (no qos slice)',
    v2(`/kubepods.slice/kubepods-pod${UID_}.slice/cri-containerd-${ID}.scope`),
    { containerId: ID, podUid: UID, runtime: 'containerd', qos: 'guaranteed' },
  ],
  [
    'k8s containerd systemd v1, every controller',
    v1(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/cri-containerd-${ID}.scope`),
    { containerId: ID, podUid: UID, runtime: 'containerd', qos: 'besteffort' },
  ],
  [
    'k8s containerd systemd v2, systemd running inside the container',
    v2(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${ID}.scope/init.scope`),
    { containerId: ID, podUid: UID, runtime: 'containerd', qos: 'burstable' },
  ],
  [
    'k8s systemd driver, pod slice only (the pod cgroup itself)',
    v2(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice`),
    { podUid: UID, qos: 'burstable' },
  ],
  [
    'k8s static pod (32-hex config hash as uid), systemd driver',
    v2(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${STATIC_UID}.slice/cri-containerd-${ID}.scope`),
    { containerId: ID, podUid: STATIC_UID, runtime: 'containerd', qos: 'burstable' },
  ],

  // Kubernetes with the cgroupfs driver (GKE COS, kubeadm defaults before 1.22).
  ['GKE cgroupfs v1, burstable', v1(`/kubepods/burstable/pod${UID}/${ID}`), { containerId: ID, podUid: UID, qos: 'burstable' }],
  ['cgroupfs v2, besteffort', v2(`/kubepods/besteffort/pod${UID}/${ID}`), { containerId: ID, podUid: UID, qos: 'besteffort' }],
  ['cgroupfs v1, guaranteed (no qos segment)', v1(`/kubepods/pod${UID}/${ID}`), { containerId: ID, podUid: UID, qos: 'guaranteed' }],
  ['cgroupfs v1, static pod', v1(`/kubepods/burstable/pod${STATIC_UID}/${ID}`), { containerId: ID, podUid: STATIC_UID, qos: 'burstable' }],
  [
    'dockershim with systemd driver v1',
    v1(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/docker-${ID}.scope`),
    { containerId: ID, podUid: UID, runtime: 'docker', qos: 'burstable' },
  ],

  // CRI-O (OpenShift).
  [
    'OpenShift 4 cri-o systemd v1',
    v1(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-${ID}.scope`),
    { containerId: ID, podUid: UID, runtime: 'cri-o', qos: 'burstable' },
  ],
  [
    'OpenShift cri-o v2 with crun `container` sub-cgroup',
    v2(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-${ID}.scope/container`),
    { containerId: ID, podUid: UID, runtime: 'cri-o', qos: 'burstable' },
  ],
  [
    'cri-o conmon is not the container',
    v2(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/crio-conmon-${ID}.scope`),
    { podUid: UID, qos: 'burstable' },
  ],
  ['cri-o conmon v1, guaranteed pod', v1(`/kubepods.slice/kubepods-pod${UID_}.slice/crio-conmon-${ID}.scope`), { podUid: UID, qos: 'guaranteed' }],
  ['cri-o cgroupfs driver', v1(`/kubepods/besteffort/pod${UID}/crio-${ID}`), { containerId: ID, podUid: UID, runtime: 'cri-o', qos: 'besteffort' }],

  // Podman: a container of a runtime the output does not name.
  ['rootless podman v2', v2(`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`), { containerId: ID }],
  ['podman conmon is not the container', v2(`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-${ID}.scope`), {}],

  // Host processes: no container.
  ['host login session v2', v2('/user.slice/user-1000.slice/session-3.scope'), {}],
  ['host systemd service v2', v2('/system.slice/sshd.service'), {}],
  ['host init scope', v2('/init.scope'), {}],
  ['root cgroup', v2('/'), {}],
  ['host v1 user session', v1('/user.slice/user-0.slice/session-12.scope'), {}],
  ['host v1 with a user manager app scope', v1('/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-terminal.scope'), {}],
  ['containerd daemon itself', v2('/system.slice/containerd.service'), {}],
  ['nvidia-persistenced', v1('/system.slice/nvidia-persistenced.service'), {}],

  // Read from inside a cgroup namespace (the exporter runs in a container).
  ['own container seen from inside its namespace', v2('/'), {}],
  [
    'other pod, relative to the reader (systemd driver)',
    v2(`/../../kubepods-besteffort-pod${UID_}.slice/cri-containerd-${ID}.scope`),
    { containerId: ID, podUid: UID, runtime: 'containerd', qos: 'besteffort' },
  ],
  [
    'other pod, relative, full tree visible',
    v2(`/../../../kubepods.slice/kubepods-pod${UID_}.slice/cri-containerd-${ID}.scope`),
    { containerId: ID, podUid: UID, runtime: 'containerd', qos: 'guaranteed' },
  ],
  ['other pod, relative cgroupfs, qos hidden by the namespace', v2(`/../pod${UID}/${ID}`), { containerId: ID, podUid: UID }],
  ['host process relative to the reader', v2('/../../../user.slice/user-1000.slice/session-4.scope'), {}],

  // Mixed and damaged input.
  [
    'hybrid: v1 lines name the container, unified line is only `/`',
    `0::/\n3:cpu,cpuacct:/kubepods/burstable/pod${UID}/${ID}\n`,
    { containerId: ID, podUid: UID, qos: 'burstable' },
  ],
  [
    'line with the pod and the container wins over a line with the pod only',
    `1:name=systemd:/kubepods/burstable/pod${UID}\n2:memory:/kubepods/burstable/pod${UID}/${ID2}\n`,
    { containerId: ID2, podUid: UID, qos: 'burstable' },
  ],
  ['nested containers: the outermost (host-visible) one', v2(`/docker/${ID}/docker/${ID2}`), { containerId: ID, runtime: 'docker' }],
  ['empty file', '', {}],
  ['garbage', 'not a cgroup file\n:\n', {}],
  ['id too short is not a container', v2(`/docker/${ID.slice(0, 12)}`), {}],
  ['upper-case hex is not a container id', v2(`/docker/${ID.toUpperCase()}`), {}],
  ['CRLF line endings', `0::/docker/${ID}\r\n`, { containerId: ID, runtime: 'docker' }],
];

describe('parseCgroupFile', () => {
  it.each(cases)('%s', (_name, text, expected) => {
    expect(parseCgroupFile(text)).toStrictEqual(expected);
  });
});
