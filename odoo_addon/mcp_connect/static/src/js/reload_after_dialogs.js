import { Component, xml } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useBus, useService } from "@web/core/utils/hooks";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

/**
 * My AI Connections stays under the dialogs of Connect a New Tool when the menu opens them, and
 * Odoo reloads nothing when they close: the page reloads itself then, so a token just saved is
 * listed at once.
 */
class ReloadAfterDialogs extends Component {
    static template = xml`<span class="d-none"/>`;
    static props = { ...standardWidgetProps };

    setup() {
        const ui = useService("ui");
        let dialogOpened = false;
        useBus(ui.bus, "active-element-changed", ({ detail: element }) => {
            if (element !== document) {
                dialogOpened = true;
            } else if (dialogOpened) {
                dialogOpened = false;
                this.props.record.model.load();
            }
        });
    }
}

registry.category("view_widgets").add("mcp_reload_after_dialogs", { component: ReloadAfterDialogs });
