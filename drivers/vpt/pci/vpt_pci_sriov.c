// SPDX-License-Identifier: GPL-2.0
/*
 * vpt_pci_sriov.c - SR-IOV: enabling VFs on a PF bound to vpt-pci, and the
 * VF token that ties a VF's user to its PF's user.
 *
 * A PF bound to vpt-pci is driven by a userspace driver, which the kernel
 * cannot vouch for: it can reset the VFs, deny them service or read what
 * passes through them.  As upstream, the VFs of such a PF are therefore
 * only handed out to a user who proves it works with the PF's user: the
 * PF's user sets a shared secret, the VF token (a UUID), through
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN on the PF, and a VF's user names it in
 * VFIO_GROUP_GET_DEVICE_FD as "<BDF> vf_token=<uuid>".  While any VF is
 * open, a new user of the PF must name the token too (the VFs' users
 * trust whoever holds it); while none is, a token named when opening the
 * PF becomes the token.
 *
 * VFs are only created on request (sriov_numvfs) and only with the
 * enable_sriov parameter: without a PF driver in userspace that sets them
 * up, VFs may not work at all.  Each VF created by a vpt-pci PF gets
 * driver_override set to vpt-pci, so that no host driver binds it; VFs
 * of a PF driven by a host driver are ordinary devices to vpt-pci, with
 * no token.
 *
 * Lifetimes: a VF's @sriov_pf is set at the VF's probe and stays valid
 * until the VF is removed, which pci_disable_sriov() does before the PF's
 * remove() frees anything (vpt_pci_sriov_disable() comes first there).
 */
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>

#include "vpt_compat.h"
#include "vpt_pci_priv.h"

static bool enable_sriov;
module_param(enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov,
		 "Allow sriov_numvfs on PFs bound to this driver (default: off). Their VFs need the PF's userspace driver to work.");

/**
 * struct vpt_pci_vf_token - the secret shared by a PF's and its VFs' users
 * @lock: protects @uuid and @users; taken under the group lock and a
 *        device's open_lock, nothing is taken under it.
 * @uuid: the token.  A random one until a user sets it, so that no VF
 *        can be opened by guessing.
 * @users: open VFs of the PF.
 */
struct vpt_pci_vf_token {
	struct mutex lock;	/* protects @uuid and @users */
	uuid_t uuid;
	unsigned int users;
};

/*
 * A VF of our PF appears: keep host drivers off it (driver_override),
 * and say so when one binds anyway (someone changed the override).
 */
static int vpt_pci_sriov_notify(struct notifier_block *nb,
				unsigned long action, void *data)
{
	struct vpt_pci_device *vpci = container_of(nb, struct vpt_pci_device,
						   sriov_nb);
	struct pci_dev *pdev = to_pci_dev(data);
	struct pci_driver *drv;

	if (!pdev->is_virtfn || pci_physfn(pdev) != vpci->pdev)
		return NOTIFY_DONE;

	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		pci_info(vpci->pdev, "VF %s: driver_override %s\n",
			 pci_name(pdev), VPT_PCI_DRIVER_NAME);
		if (vpt_pci_set_driver_override(pdev, VPT_PCI_DRIVER_NAME))
			pci_warn(vpci->pdev, "VF %s: no driver_override\n",
				 pci_name(pdev));
		break;
	case BUS_NOTIFY_BOUND_DRIVER:
		drv = to_pci_driver(pdev->dev.driver);
		if (drv != &vpt_pci_driver)
			pci_warn(vpci->pdev, "VF %s bound to %s, PF to %s\n",
				 pci_name(pdev), drv->name, VPT_PCI_DRIVER_NAME);
		break;
	}
	return NOTIFY_DONE;
}

/**
 * vpt_pci_sriov_probe() - SR-IOV state of a function being bound
 * @vpci: the device, not registered yet
 *
 * A VF remembers its PF if the PF is ours.  A PF gets a token and
 * watches for its VFs; one whose VFs are already enabled is refused, as
 * upstream: those VFs may be in use by the host.
 *
 * Return: 0, -EBUSY or -ENOMEM.
 */
int vpt_pci_sriov_probe(struct vpt_pci_device *vpci)
{
	struct pci_dev *pdev = vpci->pdev;
	struct vpt_pci_device *pf;
	int ret;

	if (pdev->is_virtfn) {
		pf = pci_iov_get_pf_drvdata(pdev, &vpt_pci_driver);
		vpci->sriov_pf = IS_ERR(pf) ? NULL : pf;
		return 0;
	}
	if (!pdev->is_physfn)
		return 0;
	if (pci_num_vf(pdev)) {
		pci_warn(pdev, "VFs are enabled: not binding a PF whose VFs the host may use\n");
		return -EBUSY;
	}

	vpci->vf_token = kzalloc(sizeof(*vpci->vf_token), GFP_KERNEL);
	if (!vpci->vf_token)
		return -ENOMEM;
	mutex_init(&vpci->vf_token->lock);
	uuid_gen(&vpci->vf_token->uuid);

	vpci->sriov_nb.notifier_call = vpt_pci_sriov_notify;
	ret = bus_register_notifier(&pci_bus_type, &vpci->sriov_nb);
	if (ret)
		goto err_free;
	return 0;

err_free:
	mutex_destroy(&vpci->vf_token->lock);
	kfree(vpci->vf_token);
	vpci->vf_token = NULL;
	return ret;
}

/**
 * vpt_pci_sriov_disable() - remove a PF's VFs before the PF goes
 * @vpci: the device, in remove(), before it is unregistered
 *
 * The VFs' users are asked to let go first, as for any unbind.
 */
void vpt_pci_sriov_disable(struct vpt_pci_device *vpci)
{
	if (!vpci->vf_token || !pci_num_vf(vpci->pdev))
		return;
	pci_disable_sriov(vpci->pdev);
	vpt_pci_power_put(vpci);
}

/**
 * vpt_pci_sriov_remove() - undo vpt_pci_sriov_probe()
 * @vpci: the device, unregistered: no fd is left
 */
void vpt_pci_sriov_remove(struct vpt_pci_device *vpci)
{
	if (!vpci->vf_token)
		return;
	bus_unregister_notifier(&pci_bus_type, &vpci->sriov_nb);
	WARN_ON(vpci->vf_token->users);
	mutex_destroy(&vpci->vf_token->lock);
	kfree(vpci->vf_token);
	vpci->vf_token = NULL;
}

/**
 * vpt_pci_sriov_configure() - the PF's sriov_numvfs was written
 * @pdev: the PF, device lock held
 * @nr_virtfn: VFs wanted, 0 to remove them
 *
 * Return: @nr_virtfn, 0, -ENOENT without enable_sriov, -EBUSY when VFs
 * are enabled already (the PCI core asks for 0 first), or the PCI core's
 * errno.
 */
int vpt_pci_sriov_configure(struct pci_dev *pdev, int nr_virtfn)
{
	struct vpt_pci_device *vpci = pci_get_drvdata(pdev);
	int ret;

	device_lock_assert(&pdev->dev);
	if (!enable_sriov)
		return -ENOENT;
	if (!vpci || !vpci->vf_token)
		return -ENODEV;

	if (!nr_virtfn) {
		vpt_pci_sriov_disable(vpci);
		return 0;
	}
	if (pci_num_vf(pdev))
		return -EBUSY;

	/* The PF stays in D0 while it has VFs. */
	ret = vpt_pci_power_get(vpci);
	if (ret)
		return ret;
	down_write(&vpci->memory_lock);
	vpt_pci_power_set_state(vpci, PCI_D0);
	vpci->pm_hold_d0 = true;
	up_write(&vpci->memory_lock);
	/*
	 * Not under memory_lock (upstream holds it here): with
	 * sriov_drivers_autoprobe the VFs are probed from here, by this
	 * driver among others, which takes vpt_pci_reset_lock, and a hot
	 * reset resumes functions, taking memory_lock, under that.
	 * pm_hold_d0 keeps the user's PMCSR writes from leaving D0
	 * meanwhile, as the VFs will once they exist.
	 */
	ret = pci_enable_sriov(pdev, nr_virtfn);
	down_write(&vpci->memory_lock);
	vpci->pm_hold_d0 = false;
	up_write(&vpci->memory_lock);
	if (ret) {
		vpt_pci_power_put(vpci);
		return ret;
	}
	return nr_virtfn;
}

/**
 * vpt_pci_sriov_token_feature() - VFIO_DEVICE_FEATURE_PCI_VF_TOKEN
 * @vpci: the device
 * @flags: the feature's flags
 * @arg: the payload, a uuid_t
 * @argsz: the payload's size
 *
 * SET (and PROBE of SET) only: a GET would hand the token of the
 * device's previous user to the next.
 *
 * Return: 0, -ENOTTY for a function that is not an SR-IOV PF, -EINVAL
 * for GET or a short payload, -EFAULT.
 */
int vpt_pci_sriov_token_feature(struct vpt_pci_device *vpci, u32 flags,
				void __user *arg, size_t argsz)
{
	uuid_t uuid;
	int ret;

	if (!vpci->vf_token)
		return -ENOTTY;
	ret = vpt_pci_feature_check(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				    sizeof(uuid));
	if (ret != 1)
		return ret;
	if (copy_from_user(&uuid, arg, sizeof(uuid)))
		return -EFAULT;

	mutex_lock(&vpci->vf_token->lock);
	uuid_copy(&vpci->vf_token->uuid, &uuid);
	mutex_unlock(&vpci->vf_token->lock);
	return 0;
}

/*
 * Whether the user may open @vpci with the token it named (@uuid, or
 * none).  Upstream's rules, errno for errno.
 */
static int vpt_pci_sriov_check_token(struct vpt_pci_device *vpci,
				     const uuid_t *uuid)
{
	struct pci_dev *pdev = vpci->pdev;
	struct vpt_pci_vf_token *token;
	int ret = 0;

	if (pdev->is_virtfn) {
		if (!vpci->sriov_pf) {
			if (!uuid)
				return 0;
			pci_info_ratelimited(pdev, "VF token given, but the PF is not bound to %s\n",
					     VPT_PCI_DRIVER_NAME);
			return -EINVAL;
		}
		if (!uuid) {
			pci_info_ratelimited(pdev, "VF token required\n");
			return -EACCES;
		}
		token = vpci->sriov_pf->vf_token;
		mutex_lock(&token->lock);
		if (!uuid_equal(uuid, &token->uuid))
			ret = -EACCES;
		mutex_unlock(&token->lock);
		if (ret)
			pci_info_ratelimited(pdev, "wrong VF token\n");
		return ret;
	}

	token = vpci->vf_token;
	if (!token) {
		if (!uuid)
			return 0;
		pci_info_ratelimited(pdev, "VF token given, but this is not an SR-IOV function\n");
		return -EINVAL;
	}
	mutex_lock(&token->lock);
	if (token->users) {
		/* The VFs' users trust the token's holder: prove it. */
		if (!uuid || !uuid_equal(uuid, &token->uuid))
			ret = -EACCES;
	} else if (uuid) {
		uuid_copy(&token->uuid, uuid);
	}
	mutex_unlock(&token->lock);
	if (ret)
		pci_info_ratelimited(pdev, "VFs are in use: %s VF token\n",
				     uuid ? "wrong" : "required");
	return ret;
}

/**
 * vpt_pci_sriov_match() - does a GET_DEVICE_FD string name this device
 * @vpci: the device
 * @buf: "<BDF>", or "<BDF>" followed by blanks and options; the only
 *       option is "vf_token=<uuid>", at most once
 *
 * Return: 1 (and the token checked), 0 for another device's name,
 * -EINVAL for a malformed string, unknown option or token where none
 * belongs, -EACCES for a missing or wrong token.
 */
int vpt_pci_sriov_match(struct vpt_pci_device *vpci, const char *buf)
{
	char str[UUID_STRING_LEN + 1];
	const char *name = pci_name(vpci->pdev);
	bool has_token = false;
	size_t len = strlen(name);
	uuid_t uuid;

	if (strncmp(buf, name, len))
		return 0;
	buf += len;
	if (*buf && *buf != ' ')
		return 0;	/* a longer name: another device */

	while (*buf) {
		if (*buf == ' ') {
			buf++;
			continue;
		}
		if (has_token || !str_has_prefix(buf, "vf_token="))
			return -EINVAL;
		buf += strlen("vf_token=");
		if (strnlen(buf, UUID_STRING_LEN) < UUID_STRING_LEN)
			return -EINVAL;
		/* What follows the UUID is checked on the next round. */
		memcpy(str, buf, UUID_STRING_LEN);
		str[UUID_STRING_LEN] = '\0';
		if (uuid_parse(str, &uuid))
			return -EINVAL;
		has_token = true;
		buf += UUID_STRING_LEN;
	}

	return vpt_pci_sriov_check_token(vpci, has_token ? &uuid : NULL) ?: 1;
}

/* Count an open VF on its PF's token (@delta +1 at open, -1 at close). */
static void vpt_pci_sriov_users(struct vpt_pci_device *vpci, int delta)
{
	struct vpt_pci_vf_token *token;

	if (!vpci->sriov_pf)
		return;
	token = vpci->sriov_pf->vf_token;
	mutex_lock(&token->lock);
	if (delta > 0)
		token->users++;
	else if (!WARN_ON(!token->users))
		token->users--;
	mutex_unlock(&token->lock);
}

/**
 * vpt_pci_sriov_open() - a VF of a vpt-pci PF is being opened
 * @vpci: the device
 */
void vpt_pci_sriov_open(struct vpt_pci_device *vpci)
{
	vpt_pci_sriov_users(vpci, 1);
}

/**
 * vpt_pci_sriov_close() - undo vpt_pci_sriov_open()
 * @vpci: the device
 */
void vpt_pci_sriov_close(struct vpt_pci_device *vpci)
{
	vpt_pci_sriov_users(vpci, -1);
}
