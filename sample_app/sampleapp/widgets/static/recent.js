/* SampleApp: the last three articles this browser showed, kept in localStorage. */
jQuery(function ($) {
    "use strict";
    var KEY = "sampleapp.recent", recent = [];
    try { recent = JSON.parse(window.localStorage.getItem(KEY) || "[]"); } catch (e) { recent = []; }
    $(".recently-viewed").each(function () {
        var $widget = $(this), id = String($widget.data("article") || ""), $list = $widget.find(".recent-list");
        $.each(recent, function (_, item) {
            if (item.id !== id) {
                $("<a/>").attr("href", "/article/" + item.id).text(item.title).appendTo($list);
                $list.append(" ");
            }
        });
        $widget.toggle($list.children().length > 0);
        if (id) {
            recent = [{id: id, title: String($widget.data("title"))}].concat(
                $.grep(recent, function (item) { return item.id !== id; })).slice(0, 3);
            try { window.localStorage.setItem(KEY, JSON.stringify(recent)); } catch (e) { /* private mode */ }
        }
        $widget.addClass("recent-ready");
    });
});
