// SPDX-License-Identifier: GPL-2.0
/*
 * vpt - VFIO-compatible PCI passthrough: the core module.
 *
 * Module parameters and the order in which the layers come up.
 */
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "vpt_priv.h"

char *vpt_node_dir = "vfio";
module_param_named(node_dir, vpt_node_dir, charp, 0444);
MODULE_PARM_DESC(node_dir,
		 "Directory under /dev for the container and group nodes (default \"vfio\"; set another to coexist with a loaded in-tree vfio)");

bool vpt_allow_unsafe_interrupts;
module_param_named(allow_unsafe_interrupts, vpt_allow_unsafe_interrupts,
		   bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Allow groups whose IOMMU cannot isolate their MSIs (no interrupt remapping); unsafe: a device could raise arbitrary interrupts");

unsigned int vpt_dma_entry_limit = 65535;
module_param_named(dma_entry_limit, vpt_dma_entry_limit, uint, 0644);
MODULE_PARM_DESC(dma_entry_limit,
		 "Maximum number of DMA mappings a container may hold (default 65535, as upstream)");

bool vpt_skip_above_width;
module_param_named(skip_above_width, vpt_skip_above_width, bool, 0644);
MODULE_PARM_DESC(skip_above_width,
		 "Treat every DMA map lying wholly above the IOMMU width as if the client had passed VPT_DMA_MAP_FLAG_SKIP_ABOVE_WIDTH (default N: such a map fails with EINVAL, as upstream)");

static int __init vpt_init(void)
{
	int ret;

	if (!*vpt_node_dir || strchr(vpt_node_dir, '/') ||
	    !strcmp(vpt_node_dir, "..") || !strcmp(vpt_node_dir, ".")) {
		pr_err("vpt: node_dir must be a single directory name\n");
		return -EINVAL;
	}

	ret = vpt_group_init();
	if (ret)
		return ret;
	ret = vpt_container_init();
	if (ret)
		goto err_group;
	pr_info("vpt: container node /dev/%s/vfio\n", vpt_node_dir);
	return 0;

err_group:
	vpt_group_exit();
	return ret;
}

static void __exit vpt_exit(void)
{
	vpt_container_exit();
	vpt_group_exit();
}

module_init(vpt_init);
module_exit(vpt_exit);

#ifdef VPT_AS_VFIO
/* As upstream's vfio.ko: opening /dev/vfio/vfio loads the module. */
MODULE_ALIAS_MISCDEV(VFIO_MINOR);
MODULE_ALIAS("devname:vfio/vfio");
#endif
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vpt: VFIO-compatible containers, groups and type1v2 IOMMU backend");
