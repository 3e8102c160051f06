/* Pre-fills the dataset form with the defaults of the chosen municipality (organisation).
 *
 * Only empty fields are filled. When the steward picks another municipality, the values this module
 * put in and the steward left untouched are replaced by the new municipality's; anything the steward
 * typed stays. On the edit form nothing is filled until the municipality changes.
 */
ckan.module("tenant-form-defaults", function ($) {
  "use strict";
  return {
    options: {defaults: {}, fillOnLoad: true},

    initialize: function () {
      $.proxyAll(this, /_on/);
      this.form = this.el.closest("form");
      this.select = this.form.find("select[name=owner_org]");
      this.filled = {};
      this.select.on("change", this._onChange);
      if (this.options.fillOnLoad) {
        this._fill(this.select.val());
      }
    },

    teardown: function () {
      this.select.off("change", this._onChange);
    },

    _onChange: function () {
      this._fill(this.select.val());
    },

    _fill: function (organizationId) {
      var form = this.form;
      var filled = this.filled;
      $.each(filled, function (name, value) {
        var field = form.find("[name='" + name + "']").first();
        if (field.val() === value) {
          field.val("").trigger("change");
        }
      });
      this.filled = {};
      var defaults = this.options.defaults[organizationId] || {};
      var now = this.filled;
      $.each(defaults, function (name, value) {
        var field = form.find("[name='" + name + "']").first();
        if (field.length && !field.val()) {
          field.val(value).trigger("change");
          now[name] = value;
        }
      });
    }
  };
});
