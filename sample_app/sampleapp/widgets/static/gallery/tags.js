/* Gallery tag input: words separated by commas become tags. */
jQuery(function ($) {
    $(".gallery-tags").each(function () {
        var $list = $("<span class='tag-list'/>"), $input = $("<input type='text' placeholder='add, tags'/>");
        function render(words) {
            $list.empty();
            $.each(words, function (_, word) { if (word) { $("<span class='tag'/>").text(word).appendTo($list); } });
        }
        $input.on("input", function () { render($.map($input.val().split(","), $.trim)); });
        render(String($(this).data("text")).split(","));
        $(this).find(".gallery-body").empty().append($list, $input);
        $(this).addClass("gallery-ready");
    });
});
